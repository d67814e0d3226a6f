//! `GET /art/<id>[?px=N]`: a song's cover art. The bridge asks the server for it on a control
//! connection of the request's own (`art <id> [<px>]`, PROTOCOL.md 5.11), claims the data port
//! the server names, and answers the picture with its type, an `ETag` (a hash of its octets:
//! any bridge gives the same) and a week of caching; 404 for a song without art or no song;
//! 304 when the browser already has it. No state outlives the request.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tapedeck_protocol::{Command, MAX_LINE_LEN, Reply, SongId};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tracing::{debug, warn};

use crate::Shared;

/// The largest picture forwarded (the server's thumbnails are a few tens of KiB).
const MAX_ART_OCTETS: u64 = 4 << 20;
/// How long browsers keep a picture before they ask again (with its ETag).
const CACHE_CONTROL: &str = "private, max-age=604800";

/// `?px=N`: the size asked for, in pixels on the longer side.
#[derive(Debug, serde::Deserialize)]
pub struct Size {
    px: Option<u32>,
}

pub async fn art(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(size): Query<Size>,
    headers: HeaderMap,
) -> Response {
    // Only decimal ids: `/art/+1` or `/art/1.0` name no song.
    let id = Some(&id)
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|id| id.parse().ok());
    let Some(id) = id else {
        return (StatusCode::NOT_FOUND, "no such song").into_response();
    };
    let Ok(_permit) = shared.art_fetches.clone().try_acquire_owned() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many pictures at once").into_response();
    };
    let command = Command::Art(SongId(id), size.px);
    let fetched = timeout(
        shared.config.art_timeout,
        fetch(&shared, &headers, &command),
    )
    .await;
    match fetched {
        Ok(Ok(Fetched::Art { media_type, bytes })) => picture(&headers, &media_type, bytes),
        Ok(Ok(Fetched::Missing(reason))) => (StatusCode::NOT_FOUND, reason).into_response(),
        Ok(Ok(Fetched::Failed(reason))) => (StatusCode::BAD_GATEWAY, reason).into_response(),
        Ok(Ok(Fetched::Refused(refused))) => crate::login::refusal(&refused),
        Ok(Err(err)) => {
            warn!(error = %err, "cannot fetch art from the server");
            (StatusCode::BAD_GATEWAY, "server unavailable").into_response()
        }
        Err(_) => (StatusCode::GATEWAY_TIMEOUT, "the server took too long").into_response(),
    }
}

/// What the server gave.
#[derive(Debug)]
enum Fetched {
    Art {
        media_type: String,
        bytes: Vec<u8>,
    },
    /// No such song, or no art: the server's reason.
    Missing(String),
    /// Any other error.
    Failed(String),
    /// The request may not have it: no session.
    Refused(crate::auth::Refused),
}

async fn fetch(
    shared: &Shared,
    headers: &HeaderMap,
    command: &Command,
) -> std::io::Result<Fetched> {
    let server = shared.config.server;
    let control = match crate::auth::sign_in(&shared.config, headers).await {
        Ok(signed) => signed.control,
        Err(crate::auth::Refused::Unavailable(err)) => return Err(err),
        Err(refused) => return Ok(Fetched::Refused(refused)),
    };
    let (reader, mut writer) = control.into_split();
    writer.write_all(format!("{command}\n").as_bytes()).await?;
    let mut line = String::new();
    let mut reader = BufReader::new(reader).take(MAX_LINE_LEN as u64 + 1);
    reader.read_line(&mut line).await?;
    let reply = Reply::parse(command, line.trim_end_matches(['\r', '\n']));
    let (port, token, octets, media_type) = match reply {
        Ok(Reply::Art {
            port,
            token,
            bytes,
            media_type,
        }) => (port, token, bytes, media_type),
        Ok(Reply::Error(reason)) if reason == "no such song" || reason == "no art" => {
            return Ok(Fetched::Missing(reason));
        }
        Ok(Reply::Error(reason)) => return Ok(Fetched::Failed(reason)),
        _ => return Ok(Fetched::Failed("malformed reply".into())),
    };
    if octets > MAX_ART_OCTETS {
        return Ok(Fetched::Failed("picture too large".into()));
    }
    let addr = std::net::SocketAddr::new(server.ip(), port);
    let mut data = timeout(shared.config.connect_timeout, TcpStream::connect(addr)).await??;
    data.write_all(format!("{token}\n").as_bytes()).await?;
    let mut bytes = Vec::new();
    (&mut data).take(octets).read_to_end(&mut bytes).await?;
    if bytes.len() as u64 != octets {
        return Ok(Fetched::Failed("picture cut short".into()));
    }
    debug!(octets, "art fetched");
    Ok(Fetched::Art { media_type, bytes })
}

/// The picture, or 304 if the browser's `If-None-Match` names it.
fn picture(headers: &HeaderMap, media_type: &str, bytes: Vec<u8>) -> Response {
    let digest = Sha256::digest(&bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    let etag = format!("\"{hex}\"");
    let cached = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let mut response = if cached {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        bytes.into_response()
    };
    let set = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(media_type) {
        set.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        set.insert(header::ETAG, value);
    }
    set.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    set.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
