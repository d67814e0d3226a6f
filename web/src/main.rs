//! The page's entry point: reports panics in the page, then renders the app into the body.

fn main() {
    tapedeck_web::crash::report_panics();
    yew::Renderer::<tapedeck_web::App>::new().render();
}
