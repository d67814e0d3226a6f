//! Signing in from the page (PROTOCOL.md 16.9): `GET /session` says whether the bridge lets
//! this browser in, `POST /login` and `POST /logout` sign in and out. The session itself is
//! an `HttpOnly` cookie the page never sees.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response, UrlSearchParams};

/// Who the page is, as far as it knows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Account {
    /// Asking the bridge.
    #[default]
    Checking,
    /// Let in: as this user, or (`None`) by a server without accounts.
    SignedIn(Option<String>),
    /// Signing in is needed; the reason the last attempt failed, if one did.
    SignIn(Option<String>),
}

/// What `GET /session` said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// Let in (as this user; `None`: the server has no accounts).
    In(Option<String>),
    /// Signing in is needed.
    Out,
}

/// Asks the bridge whether this browser is signed in. An error: the bridge cannot be reached.
pub async fn who() -> Result<Who, String> {
    let (status, body) = request("GET", "/session", None).await?;
    match status {
        200 => Ok(Who::In(answer(&body).user)),
        401 => Ok(Who::Out),
        _ => Err(failure(status, &body)),
    }
}

/// Signs in; the error is what to tell the user.
pub async fn sign_in(user: &str, password: &str) -> Result<Option<String>, String> {
    let form = UrlSearchParams::new().map_err(describe)?;
    form.append("user", user);
    form.append("password", password);
    let (status, body) = request("POST", "/login", Some(&form.into())).await?;
    match status {
        200 => Ok(answer(&body).user),
        401 => Err("Wrong user or password.".into()),
        429 => Err(format!(
            "Too many attempts: {}.",
            answer(&body).error.unwrap_or_default()
        )),
        _ => Err(failure(status, &body)),
    }
}

/// Signs out (the session ends at once, everywhere it is used).
pub async fn sign_out() -> Result<(), String> {
    request("POST", "/logout", None).await.map(drop)
}

/// Sends a request to the page's own origin: its status and its body as text.
async fn request(
    method: &str,
    path: &str,
    body: Option<&JsValue>,
) -> Result<(u16, String), String> {
    let window = web_sys::window().ok_or("no window")?;
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        init.set_body(body);
    }
    let request = Request::new_with_str_and_init(path, &init).map_err(describe)?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| "the bridge cannot be reached".to_owned())?
        .dyn_into()
        .map_err(describe)?;
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise).await.ok(),
        Err(_) => None,
    };
    Ok((
        response.status(),
        text.and_then(|t| t.as_string()).unwrap_or_default(),
    ))
}

/// The bridge's JSON answers: `{"user": ...}` or `{"error": ...}`.
#[derive(Debug, Default, serde::Deserialize)]
struct Answer {
    user: Option<String>,
    error: Option<String>,
}

/// The bridge's answer in `body` (empty if it is not one).
fn answer(body: &str) -> Answer {
    serde_json::from_str(body).unwrap_or_default()
}

/// What went wrong, as the bridge says it, else the status.
fn failure(status: u16, body: &str) -> String {
    answer(body)
        .error
        .unwrap_or_else(|| format!("HTTP {status}"))
}

fn describe(value: JsValue) -> String {
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}
