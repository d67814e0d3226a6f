//! `GET /art/<id>` through a real bridge and a real server: the picture with its type, an
//! ETag and caching; 304 for a browser that has it; 404 for a song without art, no such
//! song or no id; 502 for a picture the server cannot read. The WebSocket does not fetch art.

mod common;

use common::Stack;
use tapedeck_tests::fixtures::art_library;

/// One HTTP/1.1 GET: the status, the headers (names in lower case) and the body.
async fn get(
    bridge: std::net::SocketAddr,
    path: &str,
    extra: &str,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    common::http(bridge, "GET", path, extra, "").await
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn art_is_served_cached_and_refused_as_it_should() {
    let music = art_library();
    let mut config = tapedeck_server::Config::new(music.path());
    config.pacing = None;
    let stack = Stack::start(config).await;
    // Ids in name order: 1 a/Embedded, 2 b/Folder, 3 c/None, 4 d/Broken.
    let (status, headers, body) = get(stack.bridge, "/art/2?px=128", "").await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("image/jpeg"));
    assert_eq!(
        header(&headers, "cache-control"),
        Some("private, max-age=604800")
    );
    let picture = image::load_from_memory(&body).expect("a JPEG");
    assert_eq!((picture.width(), picture.height()), (128, 128));
    let etag = header(&headers, "etag").expect("an ETag").to_owned();
    let (status, again, body) = get(
        stack.bridge,
        "/art/2?px=128",
        &format!("If-None-Match: {etag}\r\n"),
    )
    .await;
    assert_eq!((status, body.len()), (304, 0), "the browser has it");
    assert_eq!(header(&again, "etag"), Some(etag.as_str()));
    let (status, other, _) = get(stack.bridge, "/art/1", "").await;
    assert_eq!(status, 200);
    assert_ne!(
        header(&other, "etag"),
        Some(etag.as_str()),
        "another picture"
    );
    for (path, want) in [
        ("/art/3", 404),
        ("/art/999999", 404),
        ("/art/abc", 404),
        ("/art/+2", 404),
        ("/art/99999999999999999999", 404),
        ("/art/4", 502),
        ("/art/2?px=huge", 400),
    ] {
        assert_eq!(get(stack.bridge, path, "").await.0, want, "{path}");
    }
    let mut browser = stack.browser().await;
    assert_eq!(
        browser.ask("art 2").await,
        "error art is served at /art/<id>"
    );
    assert!(browser.ask("info 2").await.contains(r#""art":true"#));
}

/// A server that takes connections and never answers (hung): each picture is answered 504
/// once the bridge's patience is over, and while 64 wait, one more is answered 503 at once.
#[tokio::test]
async fn a_hung_server_gives_504_and_a_flood_of_pictures_503() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let hung = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let server = hung.local_addr().expect("addr");
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = hung.accept().await {
            held.push(conn);
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let (bridge, _stop) = common::start_bridge_with(server, |c| {
        c.art_timeout = std::time::Duration::from_secs(3);
    })
    .await;
    let waiting: Vec<_> = (0..64)
        .map(|_| tokio::spawn(get(bridge, "/art/1", "")))
        .collect();
    tokio::time::timeout(common::PATIENCE, async {
        while accepted.load(Ordering::SeqCst) < 64 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("64 fetches reach the server");
    let (status, _, _) = get(bridge, "/art/1", "").await;
    assert_eq!(status, 503, "the 65th picture at once");
    for fetch in waiting {
        let (status, _, _) = fetch.await.expect("task");
        assert_eq!(status, 504);
    }
}
