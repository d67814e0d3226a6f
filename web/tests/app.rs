//! Browser tests of the app shell (wasm-bindgen-test in headless Chromium).

#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

mod common;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn the_page_says_tapedeck_and_its_version() {
    let root = common::render::<tapedeck_web::App>(()).await;
    let title = root.query_selector("h1").expect("query").expect("an h1");
    assert_eq!(title.text_content().as_deref(), Some("Tapedeck"));
    let version = root
        .query_selector(".version")
        .expect("query")
        .expect("a version");
    assert_eq!(
        version.text_content(),
        Some(format!("version {}", tapedeck_web::VERSION))
    );
}
