//! A panic anywhere in the app is shown in the page, never a silent dead app: WebAssembly
//! cannot unwind, so after a panic nothing of the app runs again, and the person listening
//! needs to know, and to be offered a reload.

use wasm_bindgen::JsValue;

/// The class of the element that reports a crash.
pub const CRASH_CLASS: &str = "crash";

/// Reports every later panic in the console and in the page.
pub fn report_panics() {
    std::panic::set_hook(Box::new(|info| show(&info.to_string())));
}

/// Logs `message` and puts a notice over the page, with a link that reloads it.
pub fn show(message: &str) {
    web_sys::console::error_1(&JsValue::from_str(&format!("Tapedeck crashed: {message}")));
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(body) = document.body() else {
        return;
    };
    let Ok(notice) = document.create_element("div") else {
        return;
    };
    notice.set_class_name(CRASH_CLASS);
    let _ = notice.set_attribute("role", "alert");
    notice.set_text_content(Some(&format!(
        "Tapedeck stopped working because of a bug: {message}. "
    )));
    if let Ok(link) = document.create_element("a") {
        let _ = link.set_attribute("href", "");
        link.set_text_content(Some("Reload the page"));
        let _ = notice.append_child(&link);
    }
    let _ = body.append_child(&notice);
}
