// Wall time of process start to exit, for bench/run's hook stage: no shell
// in between (hyperfine 1.15 has no --shell=none), cases interleaved run by
// run so a noisy machine hits them all alike, in a new random order each
// run.
//
// Usage: spawn_time RUNS STDIN_FILE CASE...
// CASE: words separated by spaces: `name:NAME`, then optional `rm:PATH`
// (removed before each run, untimed), `K=V` (environment), then the program
// and its arguments. Prints one `BENCH name=NAME median_ms=… p90_ms=…` line
// per case. Nonzero exits are reported on stderr and counted.
use std::process::{Command, Stdio};
use std::time::Instant;

struct Case { name: String, rm: Vec<String>, env: Vec<(String, String)>, argv: Vec<String>, ms: Vec<f64>, failed: u32 }

fn main() {
    let mut a = std::env::args().skip(1);
    let runs: usize = a.next().expect("RUNS").parse().expect("RUNS");
    let stdin_file = a.next().expect("STDIN_FILE");
    let mut cases: Vec<Case> = a.map(|spec| {
        let mut c = Case { name: String::new(), rm: vec![], env: vec![], argv: vec![], ms: vec![], failed: 0 };
        for w in spec.split_whitespace() {
            if !c.argv.is_empty() { c.argv.push(w.into()); }
            else if let Some(n) = w.strip_prefix("name:") { c.name = n.into(); }
            else if let Some(p) = w.strip_prefix("rm:") { c.rm.push(p.into()); }
            else if let Some((k, v)) = w.split_once('=') { c.env.push((k.into(), v.into())); }
            else { c.argv.push(w.into()); }
        }
        c
    }).collect();
    let warmup = 5;
    let n = cases.len();
    let mut order: Vec<usize> = (0..n).collect();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..warmup + runs {
        // A new order each run (Fisher-Yates, xorshift): whatever runs right
        // after the fdatasync floor waits for its journal commit (+0.5-0.9 ms
        // measured), and a fixed or merely rotated order always gives that
        // to the same case.
        for k in (1..n).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            order.swap(k, (seed % (k as u64 + 1)) as usize);
        }
        for &k in &order {
            let c = &mut cases[k];
            for p in &c.rm { let _ = std::fs::remove_dir_all(p); let _ = std::fs::remove_file(p); }
            let stdin = std::fs::File::open(&stdin_file).expect("stdin file");
            let t = Instant::now();
            let st = Command::new(&c.argv[0]).args(&c.argv[1..]).envs(c.env.iter().cloned())
                .stdin(stdin).stdout(Stdio::null()).stderr(Stdio::null()).status().expect("spawn");
            let el = t.elapsed().as_secs_f64() * 1e3;
            if !st.success() { c.failed += 1; }
            if i >= warmup { c.ms.push(el); }
        }
    }
    for c in cases.iter_mut() {
        c.ms.sort_by(|x, y| x.partial_cmp(y).unwrap());
        let q = |f: f64| c.ms[((c.ms.len() as f64 * f) as usize).min(c.ms.len() - 1)];
        if c.failed > 0 { eprintln!("spawn_time: {}: {} nonzero exits", c.name, c.failed); }
        println!("BENCH name={} median_ms={:.2} p90_ms={:.2}", c.name, q(0.5), q(0.9));
    }
}
