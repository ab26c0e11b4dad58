//! A real `aiex up` process for the benchmarks that measure Aiex from outside: start it on
//! a data directory, wait for its address, add a repository with the real client, read
//! its CPU time and memory, stop it with SIGTERM.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// The `aiex` binary: `explicit`, else `$CARGO_TARGET_DIR/release/aiex`, else
/// `target/release/aiex`. Errors say how to build it.
pub fn aiex_binary(explicit: Option<PathBuf>) -> Result<PathBuf> {
    let aiex = match explicit {
        Some(p) => p,
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| PathBuf::from("target"), PathBuf::from)
            .join("release/aiex"),
    };
    if !aiex.is_file() {
        bail!(
            "no aiex binary at {}: build it with `cargo build --release -p aiex` or pass --aiex PATH",
            aiex.display()
        );
    }
    Ok(aiex)
}

/// Environment variables that would give the server an LLM provider of this machine's
/// environment instead of the one a benchmark configures.
const PROVIDER_VARS: &[&str] = &["OPENAI_", "ANTHROPIC_", "GEMINI_", "OLLAMA_"];

/// A running `aiex up` process with its own data directory, config home and log.
pub struct Server {
    child: Child,
    pub url: String,
    scratch: tempfile::TempDir,
}

impl Server {
    /// Starts `aiex up` on `data` and waits until it has written its address.
    pub fn start(aiex: &Path, data: &Path, partitions: u32) -> Result<Server> {
        Server::start_with_env(aiex, data, partitions, &[])
    }

    /// [`Server::start`] with no LLM provider from this environment and `env` set
    /// (`OPENAI_BASE_URL`, ...).
    pub fn start_with_env(
        aiex: &Path,
        data: &Path,
        partitions: u32,
        env: &[(&str, &str)],
    ) -> Result<Server> {
        let scratch = tempfile::tempdir()?;
        let addr_file = scratch.path().join("addr");
        let log = std::fs::File::create(scratch.path().join("up.log"))?;
        let mut command = aiex_command(aiex, scratch.path());
        if !env.is_empty() {
            for (key, _) in std::env::vars_os() {
                let name = key.to_string_lossy();
                if PROVIDER_VARS.iter().any(|p| name.starts_with(p)) {
                    command.env_remove(key);
                }
            }
            command.envs(env.iter().copied());
        }
        command
            .arg("--data-dir")
            .arg(data)
            .arg("--partitions")
            .arg(partitions.to_string())
            .args(["up", "--listen", "127.0.0.1:0", "--addr-file"])
            .arg(&addr_file)
            .stdout(Stdio::null())
            .stderr(log);
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", aiex.display()))?;
        let mut server = Server {
            child,
            url: String::new(),
            scratch,
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(url) = std::fs::read_to_string(&addr_file)
                && url.ends_with('\n')
            {
                server.url = url.trim().to_string();
                return Ok(server);
            }
            if let Some(status) = server.child.try_wait()? {
                bail!("`aiex up` exited with {status}: {}", server.log_tail());
            }
            if Instant::now() > deadline {
                bail!(
                    "`aiex up` wrote no address within 120 s: {}",
                    server.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's config home (empty, so no config file applies) and log directory.
    pub fn scratch(&self) -> &Path {
        self.scratch.path()
    }

    /// The server's peak resident memory so far.
    pub fn peak_rss_bytes(&self) -> u64 {
        peak_rss_of(&format!("/proc/{}/status", self.pid()))
    }

    /// The last 20 lines of the server's log.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.scratch.path().join("up.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// SIGTERM (the server finishes requests and commits), then waits for it to exit.
    pub fn stop(mut self) -> Result<()> {
        // SAFETY: signalling a child this process spawned and has not yet reaped.
        unsafe {
            libc::kill(self.pid() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    bail!("`aiex up` exited with {status}: {}", self.log_tail());
                }
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                bail!("`aiex up` did not stop within 60 s of SIGTERM; killed it");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `aiex` with no settings from this environment: no AIEX_* variables, and a config
/// home with no config file.
pub fn aiex_command(aiex: &Path, config_home: &Path) -> Command {
    let mut command = Command::new(aiex);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AIEX_") {
            command.env_remove(key);
        }
    }
    command.env("XDG_CONFIG_HOME", config_home);
    command
}

/// CPU seconds (user + system) of this process (`RUSAGE_SELF`) or of its reaped
/// children (`RUSAGE_CHILDREN`).
pub fn cpu_seconds(who: libc::c_int) -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut usage);
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// CPU seconds (user + system) a running process has used so far.
pub fn cpu_seconds_of(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): state is field 3,
    // utime and stime are fields 14 and 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    (ticks(11) + ticks(12)) / hz
}

/// Peak resident memory (`VmHWM`) from a `/proc/PID/status` file.
pub fn peak_rss_of(status_file: &str) -> u64 {
    std::fs::read_to_string(status_file)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Runs `aiex --addr URL repo add DIR --json` to completion: its wall time (spawn to
/// exit), its JSON summary, and its CPU seconds.
pub fn repo_add(aiex: &Path, server: &Server, corpus: &Path) -> Result<(f64, Value, f64)> {
    // The client is the only child reaped while it runs (the server is reaped later).
    let children_cpu = cpu_seconds(libc::RUSAGE_CHILDREN);
    let started = Instant::now();
    let out = aiex_command(aiex, server.scratch())
        .args(["--addr", &server.url, "repo", "add"])
        .arg(corpus)
        .arg("--json")
        .stdin(Stdio::null())
        .output()
        .context("running `aiex repo add`")?;
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(libc::RUSAGE_CHILDREN) - children_cpu;
    if !out.status.success() {
        bail!(
            "`aiex repo add` failed ({}): {}\nserver log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            server.log_tail()
        );
    }
    let summary: Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "`aiex repo add --json` printed no JSON: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })?;
    if summary["state"] != "ready" {
        bail!("`aiex repo add` ended with the repository not ready: {summary}");
    }
    Ok((secs, summary, cpu))
}

/// What `aiex repo add DIR` names the repository: the directory's own name.
pub fn repo_name(corpus: &Path) -> Result<String> {
    corpus
        .canonicalize()
        .with_context(|| format!("cannot open {}", corpus.display()))?
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .context("the corpus directory has no name")
}

/// The repository's status, if the server at `url` knows it.
pub async fn listed(url: &str, repo: &str) -> Result<Option<aiex_proto::v1::RepositoryStatus>> {
    use aiex_proto::v1 as pb;
    let channel = tonic::transport::Channel::from_shared(url.to_string())?
        .connect()
        .await?;
    let list = pb::repositories_client::RepositoriesClient::new(channel)
        .list(pb::ListRepositoriesRequest {})
        .await?
        .into_inner();
    Ok(list.repositories.into_iter().find(|r| r.repository == repo))
}
