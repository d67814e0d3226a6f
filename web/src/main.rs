//! The page's entry point: renders the app into the body.

fn main() {
    yew::Renderer::<tapedeck_web::App>::new().render();
}
