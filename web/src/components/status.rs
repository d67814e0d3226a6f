//! The connection state in words, and the last error.

use yew::prelude::*;

use crate::state::Connection;

#[derive(Debug, Properties, PartialEq)]
pub struct StatusProps {
    pub connection: Connection,
    pub error: Option<String>,
}

#[component]
pub fn Status(props: &StatusProps) -> Html {
    let class = match props.connection {
        Connection::Connected => "status connected",
        Connection::Connecting => "status connecting",
        Connection::Disconnected { .. } | Connection::SignedOut => "status disconnected",
    };
    html! {
        <div class="statusbar" role="status" aria-live="polite">
            <span class={class}>{ props.connection.words() }</span>
            if let Some(error) = &props.error {
                <span class="error">{ error.clone() }</span>
            }
        </div>
    }
}
