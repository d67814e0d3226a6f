//! What the browser tests share.

use web_sys::Element;
use yew::BaseComponent;

/// Renders `C` with `props` into a fresh element of the test page and waits for the DOM.
pub async fn render<C: BaseComponent>(props: C::Properties) -> Element {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("a document");
    let root = document.create_element("div").expect("create div");
    document
        .body()
        .expect("a body")
        .append_child(&root)
        .expect("append");
    yew::Renderer::<C>::with_root_and_props(root.clone(), props).render();
    yew::scheduler::flush().await;
    root
}
