//! A small HTTP/1.1 server side: reads requests (Content-Length or chunked bodies, `Expect:
//! 100-continue`, keep-alive) and writes responses (fixed bodies, or chunked streams for
//! server-sent events). Enough for what the agent CLIs send; nothing else uses it.

use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// Bodies larger than this are refused (the CLIs send well under 1 MiB per request).
const MAX_BODY: usize = 64 << 20;
/// The request line and headers together.
const MAX_HEAD: usize = 256 << 10;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("connection closed")]
    Closed,
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path with any query string.
    pub target: String,
    /// Header names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query string.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// Whether the client wants the connection kept open after this request.
    pub fn keep_alive(&self) -> bool {
        match self.header("connection") {
            Some(v) => !v.to_ascii_lowercase().contains("close"),
            None => true,
        }
    }
}

async fn read_line<R: AsyncBufReadExt + Unpin>(
    r: &mut R,
    budget: &mut usize,
) -> Result<String, HttpError> {
    let mut line = Vec::new();
    let n = (&mut *r)
        .take(*budget as u64 + 1)
        .read_until(b'\n', &mut line)
        .await?;
    if n == 0 {
        return Err(HttpError::Closed);
    }
    if n > *budget {
        return Err(HttpError::Malformed("header section too large".into()));
    }
    *budget -= n;
    if line.last() != Some(&b'\n') {
        return Err(HttpError::Closed);
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    String::from_utf8(line).map_err(|_| HttpError::Malformed("header is not UTF-8".into()))
}

/// Reads the next request; `Err(Closed)` when the client closed the connection between
/// requests. Answers `Expect: 100-continue` on `w` before reading the body.
pub async fn read_request<R, W>(r: &mut BufReader<R>, w: &mut W) -> Result<Request, HttpError>
where
    R: tokio::io::AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut budget = MAX_HEAD;
    let mut first = read_line(r, &mut budget).await?;
    // Tolerate stray empty lines between requests (RFC 9112 §2.2).
    while first.is_empty() {
        first = read_line(r, &mut budget).await?;
    }
    let mut parts = first.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(HttpError::Malformed(format!("bad request line {first:?}")));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(HttpError::Malformed(format!(
            "unsupported version {version:?}"
        )));
    }
    let mut headers = Vec::new();
    loop {
        let line = match read_line(r, &mut budget).await {
            Err(HttpError::Closed) => return Err(HttpError::Malformed("truncated headers".into())),
            other => other?,
        };
        if line.is_empty() {
            break;
        }
        let Some((k, v)) = line.split_once(':') else {
            return Err(HttpError::Malformed(format!("bad header line {line:?}")));
        };
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let mut req = Request {
        method: method.to_owned(),
        target: target.to_owned(),
        headers,
        body: Vec::new(),
    };
    if req
        .header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
        w.flush().await?;
    }
    let chunked = req
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        req.body = read_chunked(r).await?;
    } else if let Some(len) = req.header("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| HttpError::Malformed(format!("bad content-length {len:?}")))?;
        if len > MAX_BODY {
            return Err(HttpError::Malformed(format!(
                "body of {len} bytes is too large"
            )));
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => HttpError::Malformed("truncated body".into()),
            _ => HttpError::Io(e),
        })?;
        req.body = body;
    }
    Ok(req)
}

async fn read_chunked<R: tokio::io::AsyncRead + Unpin>(
    r: &mut BufReader<R>,
) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    loop {
        let mut budget = 4096;
        let line = read_line(r, &mut budget).await?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| HttpError::Malformed(format!("bad chunk size {line:?}")))?;
        if size == 0 {
            // Trailers, then an empty line.
            let mut budget = MAX_HEAD;
            while !read_line(r, &mut budget).await?.is_empty() {}
            return Ok(body);
        }
        if body.len() + size > MAX_BODY {
            return Err(HttpError::Malformed("chunked body is too large".into()));
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..]).await?;
        let mut budget = 2;
        if !read_line(r, &mut budget).await?.is_empty() {
            return Err(HttpError::Malformed("chunk not followed by CRLF".into()));
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        529 => "Overloaded",
        _ => "Status",
    }
}

fn head(status: u16, headers: &[(&str, String)], keep_alive: bool) -> String {
    let mut s = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str(if keep_alive {
        "connection: keep-alive\r\n"
    } else {
        "connection: close\r\n"
    });
    s
}

/// Writes a whole response with a Content-Length body.
pub async fn write_full<W: AsyncWrite + Unpin>(
    w: &mut W,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
    keep_alive: bool,
) -> std::io::Result<()> {
    let mut out = head(status, headers, keep_alive);
    out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    w.write_all(&bytes).await?;
    w.flush().await
}

/// Writes a chunked response, one chunk per item, `pause` between chunks.
pub async fn write_chunked<W: AsyncWrite + Unpin>(
    w: &mut W,
    status: u16,
    headers: &[(&str, String)],
    chunks: &[String],
    pause: Duration,
    keep_alive: bool,
) -> std::io::Result<()> {
    let mut out = head(status, headers, keep_alive);
    out.push_str("transfer-encoding: chunked\r\n\r\n");
    w.write_all(out.as_bytes()).await?;
    w.flush().await?;
    for chunk in chunks {
        if chunk.is_empty() {
            continue;
        }
        w.write_all(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes())
            .await?;
        w.flush().await?;
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
    w.write_all(b"0\r\n\r\n").await?;
    w.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(raw: &[u8]) -> Result<(Request, Vec<u8>), HttpError> {
        let mut r = BufReader::new(raw);
        let mut w = Vec::new();
        let req = read_request(&mut r, &mut w).await?;
        Ok((req, w))
    }

    #[tokio::test]
    async fn reads_a_content_length_body_and_keeps_the_rest() {
        let raw = b"POST /v1/messages?beta=true HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n";
        let mut r = BufReader::new(&raw[..]);
        let mut w = Vec::new();
        let req = read_request(&mut r, &mut w).await.expect("first");
        assert_eq!(req.path(), "/v1/messages");
        assert_eq!(req.body, b"hello");
        assert!(req.keep_alive());
        let next = read_request(&mut r, &mut w).await.expect("second");
        assert_eq!(next.method, "GET");
        assert!(matches!(
            read_request(&mut r, &mut w).await,
            Err(HttpError::Closed)
        ));
    }

    #[tokio::test]
    async fn reads_a_chunked_body_and_answers_expect_continue() {
        let raw = b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: y\r\n\r\n";
        let (req, w) = parse(raw).await.expect("parse");
        assert_eq!(req.body, b"abcde");
        assert!(!req.keep_alive());
        assert_eq!(w, b"HTTP/1.1 100 Continue\r\n\r\n");
    }

    #[tokio::test]
    async fn refuses_what_it_cannot_read() {
        for raw in [
            &b"POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"[..],
            b"POST /x HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
            b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"POST /x HTTP/1.1\r\nno colon\r\n\r\n",
            b"garbage\r\n\r\n",
            b"POST /x HTTP/2\r\n\r\n",
        ] {
            assert!(
                matches!(parse(raw).await, Err(HttpError::Malformed(_))),
                "accepted {:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[tokio::test]
    async fn writes_chunks_that_decode_back() {
        let mut out = Vec::new();
        write_chunked(
            &mut out,
            200,
            &[("content-type", "text/event-stream".into())],
            &["event: a\ndata: {}\n\n".into(), "".into(), "x".into()],
            Duration::ZERO,
            true,
        )
        .await
        .expect("write");
        let text = String::from_utf8(out).expect("utf8");
        let (head, body) = text.split_once("\r\n\r\n").expect("head");
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(head.contains("transfer-encoding: chunked"));
        assert_eq!(body, "13\r\nevent: a\ndata: {}\n\n\r\n1\r\nx\r\n0\r\n\r\n");
    }
}
