//! `gpusum web`: serves the page that web/build.sh builds (web/dist/) on 127.0.0.1, so a browser
//! can run gpusum's kernels through its own WebGPU. A few dozen lines of HTTP/1.1 are enough for
//! static files; the one thing the browser insists on is `application/wasm` for the module.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};

use super::Outcome;
use super::args::WebArgs;
use super::out;

/// Where the page lives when `--dir` is not given: web/dist/ of this checkout.
fn default_dir() -> PathBuf {
    let here = PathBuf::from("web/dist");
    if here.join("index.html").is_file() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web/dist")
}

pub fn run(args: &WebArgs) -> Outcome {
    let dir = args.dir.clone().unwrap_or_else(default_dir);
    if !dir.join("index.html").is_file() || !dir.join("gpusum_web_bg.wasm").is_file() {
        return Err(anyhow::anyhow!(
            "the page is not built in {}: run web/build.sh first (it needs the \
             wasm32-unknown-unknown target and installs wasm-bindgen-cli once)",
            dir.display()
        )
        .into());
    }
    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .map_err(|error| anyhow::anyhow!("cannot listen on 127.0.0.1:{}: {error}", args.port))?;
    let port = listener.local_addr()?.port();
    // Unbuffered: a script that waits for the URL sees it at once.
    out::println(&format!("http://127.0.0.1:{port}/"))?;
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let dir = dir.clone();
        std::thread::spawn(move || {
            // A browser that hangs up early is its own business.
            let _ = serve(stream, &dir);
        });
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// Answers one request: a GET of a file under `dir` ("/" is index.html), else 404 or 405.
fn serve(mut stream: TcpStream, dir: &Path) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    // Skip the headers.
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let mut parts = request.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    if method != "GET" && method != "HEAD" {
        return respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"GET only\n",
        );
    }
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let relative = if path == "/" {
        "index.html"
    } else {
        path.trim_start_matches('/')
    };
    let safe = Path::new(relative)
        .components()
        .all(|component| matches!(component, Component::Normal(_)));
    let file = dir.join(relative);
    match std::fs::read(&file) {
        Ok(body) if safe => {
            let body = if method == "HEAD" { Vec::new() } else { body };
            respond(&mut stream, "200 OK", content_type(&file), &body)
        }
        _ => respond(&mut stream, "404 Not Found", "text/plain", b"not found\n"),
    }
}

fn respond(stream: &mut TcpStream, status: &str, kind: &str, body: &[u8]) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}
