//! A minimal W3C WebDriver client for Debian's chromedriver on loopback: enough to load a
//! page, find and click elements, type, run scripts and take screenshots.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::process::{PATIENCE, Process};

/// Chromium's flags for tests here (headless, no sandbox as root, audio allowed to start).
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1200,800",
];

/// A chromedriver process and one browser session; both end on drop.
#[derive(Debug)]
pub struct Browser {
    driver: SocketAddr,
    session: String,
    _chromedriver: Process,
    /// The session's own profile: two Chromiums sharing one would hand over to each other.
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on `port` and opens a session.
    pub fn start(port: u16) -> Self {
        let chromedriver = Process::start(Path::new("chromedriver"), &[&format!("--port={port}")]);
        let driver = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + PATIENCE;
        while TcpStream::connect(driver).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| (*a).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "goog:chromeOptions": {"args": args}
        }}});
        let created = request(driver, "POST", "/session", Some(&capabilities));
        let session = created["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        Self {
            driver,
            session,
            _chromedriver: chromedriver,
            _profile: profile,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        request(
            self.driver,
            method,
            &format!("/session/{}{path}", self.session),
            body,
        )
    }

    pub fn go(&self, url: &str) {
        self.call("POST", "/url", Some(&json!({ "url": url })));
    }

    /// Resizes the window so that the page's viewport is `width` x `height` CSS pixels.
    pub fn set_viewport(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            Some(&json!({ "width": width, "height": height })),
        );
        // The window's frame, if any, takes from the viewport: grow the window by the
        // difference.
        let inner = self.run("return [window.innerWidth, window.innerHeight]");
        let (w, h) = (
            inner[0].as_u64().unwrap_or(0),
            inner[1].as_u64().unwrap_or(0),
        );
        if (w, h) != (u64::from(width), u64::from(height)) {
            let (dw, dh) = (
                u64::from(width).saturating_sub(w),
                u64::from(height).saturating_sub(h),
            );
            self.call(
                "POST",
                "/window/rect",
                Some(&json!({ "width": u64::from(width) + dw, "height": u64::from(height) + dh })),
            );
        }
    }

    pub fn refresh(&self) {
        self.call("POST", "/refresh", Some(&json!({})));
    }

    /// Runs `script` (a function body) and returns its value.
    pub fn run(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(&json!({ "script": script, "args": [] })),
        )
    }

    /// Runs `script` (a function body whose last argument is a callback) and returns the
    /// value it passes to the callback.
    pub fn run_async(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/async",
            Some(&json!({ "script": script, "args": [] })),
        )
    }

    /// Clicks the first element matching the CSS `selector`, scrolled to the middle of its
    /// scroller first as a person would (WebDriver's own scrolling can leave a row of the
    /// library under its sticky header).
    pub fn click(&self, selector: &str) {
        let id = self.element(selector);
        self.call(
            "POST",
            "/execute/sync",
            Some(&json!({
                "script": "document.querySelector(arguments[0]).scrollIntoView({block: 'center'})",
                "args": [selector],
            })),
        );
        // The scroll may make the page draw the row anew (the library recreates rows that
        // scroll): then the element found is gone, and the new one is clicked.
        let click = |id: &str| {
            let path = format!("/session/{}/element/{id}/click", self.session);
            try_request(self.driver, "POST", &path, Some(&json!({})))
        };
        if let Err(error) = click(&id) {
            assert!(error.contains("stale element"), "click {selector}: {error}");
            click(&self.element(selector)).unwrap_or_else(|e| panic!("click {selector}: {e}"));
        }
    }

    /// Presses and releases the mouse on the first element matching `selector`, at `fraction`
    /// of its width from its left edge (half way up): a real pointer, through WebDriver's
    /// actions.
    pub fn click_at(&self, selector: &str, fraction: f64) {
        let rect = self.run(&format!(
            "const r = document.querySelector(\"{selector}\").getBoundingClientRect(); \
             return [r.left, r.top, r.width, r.height]"
        ));
        let at = |i: usize| rect[i].as_f64().unwrap_or_else(|| panic!("no {selector}"));
        let x = (at(0) + fraction * at(2)).round() as i64;
        let y = (at(1) + at(3) / 2.0).round() as i64;
        let pointer = json!({
            "type": "pointer",
            "id": "mouse",
            "parameters": { "pointerType": "mouse" },
            "actions": [
                { "type": "pointerMove", "origin": "viewport", "x": x, "y": y },
                { "type": "pointerDown", "button": 0 },
                { "type": "pointerUp", "button": 0 }
            ]
        });
        self.call("POST", "/actions", Some(&json!({ "actions": [pointer] })));
    }

    /// Types `text` into the first element matching `selector`.
    pub fn type_into(&self, selector: &str, text: &str) {
        let id = self.element(selector);
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(&json!({ "text": text })),
        );
    }

    fn element(&self, selector: &str) -> String {
        let found = self.call(
            "POST",
            "/element",
            Some(&json!({"using": "css selector", "value": selector})),
        );
        let id = found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str);
        id.unwrap_or_else(|| panic!("no element {selector}: {found}"))
            .to_owned()
    }

    /// Saves a PNG screenshot to `path`.
    pub fn screenshot(&self, path: &Path) {
        let png = self.call("GET", "/screenshot", None);
        let bytes = base64(png.as_str().expect("base64 text"));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot folder");
        }
        std::fs::write(path, bytes).expect("write screenshot");
    }

    /// Runs `script` until `done` holds for its value, or fails after [`PATIENCE`].
    pub fn wait_for(&self, what: &str, script: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let value = self.run(script);
            if done(&value) {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "waited in vain for {what}: last {value}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(|| {
            request(
                self.driver,
                "DELETE",
                &format!("/session/{}", self.session),
                None,
            )
        });
    }
}

/// One HTTP/1.1 request to chromedriver; returns the response's `value`, or fails on an
/// error.
fn request(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> Value {
    try_request(addr, method, path, body).unwrap_or_else(|error| panic!("{error}"))
}

/// One HTTP/1.1 request to chromedriver: the response's `value`, or the error it holds.
fn try_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, String> {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut stream = TcpStream::connect(addr).expect("connect to chromedriver");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .expect("send");
    let text = read_response(&mut stream);
    let value: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{method} {path}: {text}"));
    if value["value"]["error"].is_null() {
        Ok(value["value"].clone())
    } else {
        Err(format!("{method} {path}: {value}"))
    }
}

/// Reads one response's body: chromedriver keeps connections open, so read exactly its
/// Content-Length.
fn read_response(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let (head_len, body_len) = loop {
        let n = stream.read(&mut chunk).expect("response");
        assert_ne!(n, 0, "chromedriver closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(str::trim);
            break (
                end + 4,
                length
                    .and_then(|l| l.parse::<usize>().ok())
                    .expect("a Content-Length"),
            );
        }
    };
    while buf.len() < head_len + body_len {
        let n = stream.read(&mut chunk).expect("response body");
        assert_ne!(n, 0, "chromedriver closed the connection mid-body");
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&buf[head_len..head_len + body_len]).into_owned()
}

/// Where browser tests leave screenshots for a person to look at: `<target>/screenshots/`
/// (the test executable is `<target>/<profile>/deps/<test>`).
pub fn screenshots() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test executable");
    exe.ancestors()
        .nth(3)
        .expect("target dir")
        .join("screenshots")
}

/// Standard base64 decoding (screenshots), without a dependency for it.
fn base64(text: &str) -> Vec<u8> {
    let digit = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let clean: Vec<u8> = text
        .bytes()
        .filter(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for quad in clean.chunks(4) {
        let n = quad
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &c)| n | u32::from(digit(c)) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..quad.len()]);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn decodes_base64() {
        assert_eq!(super::base64("aGVsbG8="), b"hello");
        assert_eq!(super::base64("aGVsbG8h"), b"hello!");
        assert_eq!(super::base64("aGk="), b"hi");
    }
}
