//! `POST /login`, `POST /logout` and `GET /session` (PROTOCOL.md 16.9): signing in from a
//! browser. The server checks the password and issues the session; the bridge only carries
//! its id in a cookie (`HttpOnly`, `SameSite=Strict`, `Secure` over HTTPS).

use std::sync::Arc;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tapedeck_protocol::{Command, Password, Reply, valid_user_name};
use tracing::{info, warn};

use crate::auth::{self, COOKIE, Refused};
use crate::{Peer, Shared};

/// The longest password the bridge forwards, in bytes (the server's own limit).
const MAX_PASSWORD: usize = 512;

/// The form `POST /login` takes.
#[derive(serde::Deserialize)]
pub struct Login {
    user: String,
    password: String,
}

/// The password never shows.
impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

pub async fn login(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    headers: HeaderMap,
    form: Result<Form<Login>, FormRejection>,
) -> Response {
    let config = &shared.config;
    if let Some(refused) = foreign(config, &headers) {
        return refused;
    }
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return answer(rejection.status(), json!({"error": "form too large"}));
        }
        Err(_) => {
            return answer(
                StatusCode::BAD_REQUEST,
                json!({"error": "expected the form fields user and password"}),
            );
        }
    };
    let possible = valid_user_name(&form.user)
        && !form.password.is_empty()
        && form.password.len() <= MAX_PASSWORD
        && !form.password.chars().any(char::is_control);
    if !possible {
        return wrong();
    }
    let client = auth::client(config, peer, &headers);
    let signed_in = async {
        let mut control = auth::connect(config).await?;
        let via = auth::ask(&mut control, &Command::Via(client)).await?;
        if via != Reply::Ok {
            // Every browser would count as this bridge: one guesser would hold up everyone.
            return Err(std::io::Error::other(format!(
                "the server does not believe this bridge's `via` ({via}): start it with \
                 --bridge <this bridge's address>"
            )));
        }
        let command = Command::Login {
            user: form.user.clone(),
            password: Password(form.password),
        };
        auth::ask(&mut control, &command).await
    };
    let reply = match signed_in.await {
        Ok(reply) => reply,
        Err(err) => {
            warn!(error = %err, "cannot sign in at the server");
            return answer(
                StatusCode::BAD_GATEWAY,
                json!({"error": "server unavailable"}),
            );
        }
    };
    match reply {
        Reply::Session { id, seconds } => {
            // A session the browser held before ends: one browser, one session.
            if let Some(old) = auth::session_id(&headers) {
                end_session(&shared, old).await;
            }
            info!(user = %form.user, %client, "signed in");
            let mut response = answer(StatusCode::OK, json!({"user": form.user}));
            let secure = auth::secure(config, peer, &headers);
            set_cookie(&mut response, &cookie(&id, seconds, secure));
            response
        }
        Reply::Error(reason) if reason.starts_with("too many attempts") => throttled(&reason),
        Reply::Error(reason) if reason == "wrong user or password" => wrong(),
        Reply::Error(reason) if reason == "no accounts" => answer(
            StatusCode::CONFLICT,
            json!({"error": "this server has no accounts"}),
        ),
        other => {
            warn!(reply = %other, "unexpected answer to a sign-in");
            answer(StatusCode::BAD_GATEWAY, json!({"error": "server error"}))
        }
    }
}

pub async fn logout(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    headers: HeaderMap,
) -> Response {
    let config = &shared.config;
    if let Some(refused) = foreign(config, &headers) {
        return refused;
    }
    if let Some(id) = auth::session_id(&headers) {
        end_session(&shared, id).await;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_cookie(
        &mut response,
        &cookie("", 0, auth::secure(config, peer, &headers)),
    );
    response
}

/// `GET /session`: who the cookie signs in, `{"user": null}` on a server without accounts,
/// 401 when signing in is needed. Refreshes the cookie's lifetime.
pub async fn whoami(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    headers: HeaderMap,
) -> Response {
    match auth::sign_in(&shared.config, &headers).await {
        Ok(signed) => {
            let mut response = answer(StatusCode::OK, json!({"user": signed.user}));
            if let (Some(_), Some(id)) = (&signed.user, auth::session_id(&headers)) {
                let secure = auth::secure(&shared.config, peer, &headers);
                set_cookie(&mut response, &cookie(&id, signed.seconds, secure));
            }
            response
        }
        Err(refused) => refusal(&refused),
    }
}

/// The answer for a request the server did not let in: 401, or 502 when it could not be asked.
pub fn refusal(refused: &Refused) -> Response {
    let status = match refused {
        Refused::SignIn | Refused::NoAccounts => StatusCode::UNAUTHORIZED,
        Refused::Unavailable(_) => StatusCode::BAD_GATEWAY,
    };
    answer(status, json!({"error": refused.to_string()}))
}

/// Ends the session `id` at the server (best effort: an unknown one is gone already).
async fn end_session(shared: &Shared, id: String) {
    let ended = async {
        let mut control = auth::connect(&shared.config).await?;
        if let Reply::User { .. } = auth::ask(&mut control, &Command::Session(id)).await? {
            auth::ask(&mut control, &Command::Logout).await?;
        }
        std::io::Result::Ok(())
    };
    if let Err(err) = ended.await {
        warn!(error = %err, "cannot end a session at the server");
    }
}

/// 403 for a request from a page of another origin (as the WebSocket's, PROTOCOL.md 16.6).
fn foreign(config: &crate::Config, headers: &HeaderMap) -> Option<Response> {
    auth::foreign_origin(config, headers).then(|| {
        answer(
            StatusCode::FORBIDDEN,
            json!({"error": "origin not allowed"}),
        )
    })
}

fn wrong() -> Response {
    answer(
        StatusCode::UNAUTHORIZED,
        json!({"error": "wrong user or password"}),
    )
}

/// 429 with `Retry-After`, from the server's `too many attempts (retry in N s)`.
fn throttled(reason: &str) -> Response {
    let seconds = reason
        .split(|c: char| !c.is_ascii_digit())
        .find(|word| !word.is_empty())
        .unwrap_or("60");
    let mut response = answer(StatusCode::TOO_MANY_REQUESTS, json!({"error": reason}));
    if let Ok(value) = HeaderValue::from_str(seconds) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The session cookie: `id` for `seconds` (an empty one for 0 seconds removes it).
fn cookie(id: &str, seconds: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={id}; Path=/; Max-Age={seconds}; HttpOnly; SameSite=Strict{secure}")
}

fn set_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
}
