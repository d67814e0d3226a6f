//! Browser tests of the app shell (wasm-bindgen-test in headless Chromium).

#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Renders the app into a fresh element of the test page and returns that element.
async fn render_app() -> web_sys::Element {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("a document");
    let root = document.create_element("div").expect("create div");
    document
        .body()
        .expect("a body")
        .append_child(&root)
        .expect("append");
    yew::Renderer::<tapedeck_web::App>::with_root(root.clone()).render();
    yew::scheduler::flush().await;
    root
}

#[wasm_bindgen_test]
async fn the_page_says_tapedeck_and_its_version() {
    let root = render_app().await;
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
