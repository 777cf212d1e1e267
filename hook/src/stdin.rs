//! Reading one JSON object from stdin, bounded in size, and without waiting
//! for end of input: the read stops at the object's closing brace, so a
//! caller that keeps stdin open cannot make the hook hang. Anything that
//! does not start with `{` is refused at once.

use std::io::{self, Read};

/// What was read.
#[derive(Debug, PartialEq, Eq)]
pub enum Read1 {
    /// The bytes of one complete top-level object (leading space dropped).
    Object(Vec<u8>),
    /// Nothing but white space before end of input.
    Empty,
    /// Not a JSON object: a first byte other than `{`, or an object cut
    /// short by end of input.
    NotAnObject(&'static str),
    /// Over `max` bytes.
    TooLarge,
}

/// Tracks nesting outside strings.
#[derive(Default)]
struct Scan {
    depth: usize,
    in_string: bool,
    escaped: bool,
}

impl Scan {
    /// Feeds one byte; true when the top-level object just closed.
    fn feed(&mut self, b: u8) -> bool {
        if self.in_string {
            match (self.escaped, b) {
                (true, _) => self.escaped = false,
                (false, b'\\') => self.escaped = true,
                (false, b'"') => self.in_string = false,
                _ => {}
            }
            return false;
        }
        match b {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth = self.depth.saturating_sub(1);
                return self.depth == 0;
            }
            _ => {}
        }
        false
    }
}

pub fn read_object(mut r: impl Read, max: usize) -> io::Result<Read1> {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut scan = Scan::default();
    let mut started = false;
    let mut consumed = 0usize;
    loop {
        let n = match r.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        consumed += n;
        if consumed > max.saturating_add(64 * 1024) && !started {
            return Ok(Read1::TooLarge);
        }
        for &b in &chunk[..n] {
            if !started {
                match b {
                    b' ' | b'\t' | b'\r' | b'\n' => continue,
                    b'{' => started = true,
                    _ => return Ok(Read1::NotAnObject("does not start with {")),
                }
            }
            if buf.len() >= max {
                return Ok(Read1::TooLarge);
            }
            buf.push(b);
            if scan.feed(b) {
                return Ok(Read1::Object(buf));
            }
        }
    }
    Ok(if started {
        Read1::NotAnObject("input ended inside the object")
    } else {
        Read1::Empty
    })
}

/// How long after a termination signal the hook still waits for the first
/// byte of its event.
pub const AFTER_SIGNAL: std::time::Duration = std::time::Duration::from_millis(250);

/// `stdin`, watched: when a termination signal has come and not one byte
/// arrived within [`AFTER_SIGNAL`] of it, Claude Code ended the hook before
/// it wrote the event (seen, rarely, when 2.1.332 cancels the async hooks
/// 20-odd ms after Stop started). There is nothing to capture then, and
/// the read would block until Claude Code's SIGKILL 1.5 s later, the hook
/// leaving no trace; instead `gave_up` runs (it logs) and the process
/// exits 0 at once.
pub fn watched<R: Read>(
    stdin: R,
    signals: crate::signals::Signals,
    gave_up: impl FnOnce(&'static str) + Send + 'static,
) -> impl Read {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let got = Arc::new(AtomicBool::new(false));
    let seen = Arc::clone(&got);
    std::thread::spawn(move || {
        let mut since = None;
        while !seen.load(Ordering::Relaxed) {
            if let Some(sig) = signals.caught() {
                let at = *since.get_or_insert_with(std::time::Instant::now);
                if at.elapsed() >= AFTER_SIGNAL {
                    gave_up(sig);
                    std::process::exit(0);
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    });
    Watched { inner: stdin, got }
}

struct Watched<R> {
    inner: R,
    got: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl<R: Read> Read for Watched<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.got.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that yields its bytes and then would block forever.
    struct NeverCloses(io::Cursor<Vec<u8>>);

    impl Read for NeverCloses {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.read(buf)? {
                0 => panic!("read past the object: the hook would hang"),
                n => Ok(n),
            }
        }
    }

    #[test]
    fn stops_at_the_closing_brace_without_waiting_for_eof() -> io::Result<()> {
        let text = br#"  {"a":"}\"{","b":[{"c":"\\"}],"d":1}"#.to_vec();
        let got = read_object(NeverCloses(io::Cursor::new(text.clone())), 1 << 20)?;
        assert_eq!(got, Read1::Object(text.trim_ascii().to_vec()));
        Ok(())
    }

    #[test]
    fn refuses_what_is_not_one_object() -> io::Result<()> {
        assert_eq!(read_object(&b"  \n"[..], 100)?, Read1::Empty);
        assert!(matches!(
            read_object(&b"[1]"[..], 100)?,
            Read1::NotAnObject(_)
        ));
        assert!(matches!(
            read_object(&b"{\"a\":"[..], 100)?,
            Read1::NotAnObject(_)
        ));
        assert_eq!(
            read_object(&b"{\"a\":\"0123456789\"}"[..], 8)?,
            Read1::TooLarge
        );
        Ok(())
    }
}
