//! `--this-host`: the packing machine's description, read from /proc and /etc.

use perfbundle_core::bundle::Environment;

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// What this machine says of itself (Linux files; other systems get what std knows).
pub fn this_host() -> Environment {
    let os = read("/etc/os-release")
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_string())));
    let cpu = read("/proc/cpuinfo").and_then(|t| {
        t.lines().find_map(|l| {
            l.strip_prefix("model name").and_then(|v| v.split_once(':')).map(|(_, v)| v.trim().to_string())
        })
    });
    let memory_bytes = read("/proc/meminfo").and_then(|t| {
        t.lines().find_map(|l| {
            let v = l.strip_prefix("MemTotal:")?.trim().strip_suffix("kB")?.trim();
            v.parse::<u64>().ok().map(|kb| kb * 1024)
        })
    });
    Environment {
        host: read("/proc/sys/kernel/hostname").or_else(|| std::env::var("HOSTNAME").ok()),
        os: os.or_else(|| Some(std::env::consts::OS.to_string())),
        kernel: read("/proc/sys/kernel/osrelease"),
        arch: Some(std::env::consts::ARCH.to_string()),
        cpu,
        cores: std::thread::available_parallelism().ok().map(|n| n.get() as u32),
        memory_bytes,
        source: Some("packing-host".into()),
    }
}
