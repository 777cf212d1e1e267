// The hook's floor for bench/run: spawn, write a small file, fdatasync it, exit.
use std::io::Write;
fn main() {
    let path = std::env::args().nth(1).expect("path");
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(&[b'x'; 512]).unwrap();
    f.sync_data().unwrap();
}
