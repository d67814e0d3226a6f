//! The sign-in form, shown instead of the library when the bridge wants a session.

use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Debug, Properties, PartialEq)]
pub struct SignInProps {
    /// Why the last attempt failed, if it did.
    pub error: Option<String>,
    /// The user name and password typed.
    pub on_sign_in: Callback<(String, String)>,
}

#[component]
pub fn SignIn(props: &SignInProps) -> Html {
    let (user, password) = (use_node_ref(), use_node_ref());
    let busy = use_state(|| false);
    {
        // A new answer (an error) makes the form usable again.
        let busy = busy.clone();
        use_effect_with(props.error.clone(), move |_| busy.set(false));
    }
    let onsubmit = {
        let (user, password, busy) = (user.clone(), password.clone(), busy.clone());
        let on_sign_in = props.on_sign_in.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let value = |node: &NodeRef| {
                node.cast::<HtmlInputElement>()
                    .map(|input| input.value())
                    .unwrap_or_default()
            };
            busy.set(true);
            on_sign_in.emit((value(&user).trim().to_owned(), value(&password)));
        })
    };
    html! {
        <form class="sign-in" {onsubmit} aria-label="Sign in">
            <h2>{ "Sign in" }</h2>
            <label>{ "User" }
                <input ref={user} name="user" autocomplete="username" required=true
                    autocapitalize="none" spellcheck="false" />
            </label>
            <label>{ "Password" }
                <input ref={password} name="password" type="password" required=true
                    autocomplete="current-password" />
            </label>
            if let Some(error) = &props.error {
                <p class="error" role="alert">{ error.clone() }</p>
            }
            <button type="submit" disabled={*busy}>{ "Sign in" }</button>
        </form>
    }
}
