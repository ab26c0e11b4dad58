//! Helpers for running the `aiex` binary as a user does: real processes, temporary data
//! directories, `--json` output parsed, and `aiex up` started and stopped around a test.
//!
//! Every process runs with `NO_COLOR=1`, without the caller's `AIEX_*` variables and with
//! `XDG_CONFIG_HOME` pointed at an empty directory, so a config file or a gateway on the
//! machine cannot change what a test sees.

#![allow(dead_code)] // each test binary uses its own subset

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod fake_llm;
#[path = "../../../node/tests/llm/server.rs"]
pub mod llm_server;
pub mod nats;

/// How long any one client command may take (indexing a large repository in a debug
/// build on a busy machine included) before the test gives up on it.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(600);
/// How long `aiex up` may take to start listening, or to stop after SIGTERM.
pub const SERVER_TIMEOUT: Duration = Duration::from_secs(60);

/// The sample Mix project in `examples/inventory`.
pub fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/inventory")
}

/// `aiex` with the test environment: no colour, no inherited settings, no config file.
pub fn command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aiex"));
    c.env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", empty_config_home())
        .stdin(Stdio::null());
    for var in [
        "AIEX_CONFIG",
        "AIEX_ADDR",
        "AIEX_DATA_DIR",
        "AIEX_PARTITIONS",
        "AIEX_LISTEN",
        "AIEX_INDEX_THREADS",
        "AIEX_NATS_URL",
        "AIEX_SEEDS",
        "AIEX_NODE_ID",
        "AIEX_GOSSIP_LISTEN",
        "AIEX_ADVERTISE",
        "AIEX_REPLICAS",
        "AIEX_CLUSTER_ID",
        "AIEX_GOSSIP_INTERVAL_MS",
        "AIEX_DROP_GRACE_SECS",
        "AIEX_PHI_THRESHOLD",
        "AIEX_STREAM_REPLICAS",
        "AIEX_DEAD_NODE_GRACE_SECS",
        "AIEX_LOG_FORMAT",
        "AIEX_METRICS_LISTEN",
        "AIEX_ASSIST_IDLE_TIMEOUT_SECS",
        "AIEX_CHAT_HISTORY_TOKENS",
        "AIEX_ASSIST_JOBS",
        // LLM providers: a test names the one it serves.
        "OPENAI_API_KEY",
        "OPENAI_API_KEY_FILE",
        "OPENAI_BASE_URL",
        "OPENAI_MODEL",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_API_KEY_FILE",
        "GEMINI_API_KEY",
        "GEMINI_API_KEY_FILE",
        "OLLAMA_HOST",
    ] {
        c.env_remove(var);
    }
    c
}

/// A config home with no `aiex/config.toml` in it (a missing default config is fine).
fn empty_config_home() -> PathBuf {
    std::env::temp_dir().join("aiex-tests-have-no-config")
}

/// Runs `aiex ARGS` to completion; panics if it takes longer than [`COMMAND_TIMEOUT`].
pub fn aiex(args: &[&str]) -> Output {
    let mut c = command();
    c.args(args);
    finish(c.stdout(Stdio::piped()).stderr(Stdio::piped()), args)
}

/// Runs `aiex --data-dir DATA ARGS` in directory `cwd`.
#[allow(dead_code)]
pub fn aiex_from(cwd: &Path, data: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--data-dir", data.to_str().expect("UTF-8 temp path")];
    all.extend_from_slice(args);
    let mut c = command();
    c.current_dir(cwd).args(&all);
    finish(c.stdout(Stdio::piped()).stderr(Stdio::piped()), &all)
}

/// Runs `aiex --data-dir DATA ARGS`.
pub fn aiex_in(data: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--data-dir", data.to_str().expect("UTF-8 temp path")];
    all.extend_from_slice(args);
    aiex(&all)
}

/// Spawns a configured command and waits for it, killing it after [`COMMAND_TIMEOUT`].
fn finish(c: &mut Command, args: &[&str]) -> Output {
    let child = c.spawn().expect("run aiex");
    wait_output(child, args)
}

/// Waits for a spawned `aiex` (stdout and stderr piped), killing it after
/// [`COMMAND_TIMEOUT`].
pub fn wait_output(child: Child, args: &[&str]) -> Output {
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(COMMAND_TIMEOUT) {
        Ok(out) => out.expect("wait for aiex"),
        Err(_) => {
            signal(pid, "KILL");
            panic!("aiex {args:?} did not finish within {COMMAND_TIMEOUT:?}; killed it");
        }
    }
}

/// Sends a signal with the `kill` command (the tests have no libc).
pub fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} {pid} failed");
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The session id `aiex chat` announced on stderr (`session: ID ...`).
pub fn session_id(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("session: "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no session id in {stderr}"))
        .to_string()
}

/// The JSON a successful command printed; panics with its stderr otherwise.
pub fn ok_json(args: &[&str], out: &Output) -> Value {
    assert!(
        out.status.success(),
        "aiex {args:?} failed ({}): {}",
        out.status,
        stderr(out)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "aiex {args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Asserts that a command failed and that its stderr says `needle`; returns the stderr.
pub fn fails_saying(args: &[&str], out: &Output, needle: &str) -> String {
    let err = stderr(out);
    assert!(
        !out.status.success(),
        "aiex {args:?} should have failed; it printed {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        err.contains(needle),
        "aiex {args:?} failed without saying {needle:?}: {err}"
    );
    err
}

/// A running `aiex up` on `127.0.0.1:0` with its data under `data`; killed when dropped.
pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`, as `--addr` takes it.
    pub addr: String,
    data: PathBuf,
}

impl Server {
    /// Starts `aiex up` and waits until it has written its address.
    pub fn start(data: &Path) -> Server {
        Server::start_role(data, &["up", "--listen", "127.0.0.1:0"])
    }

    /// Starts `aiex --data-dir DATA ROLE_ARGS --addr-file DATA/addr` (`up`, `node ...`,
    /// `gateway ...`) and waits until it has written its address.
    pub fn start_role(data: &Path, role_args: &[&str]) -> Server {
        Server::start_role_env(data, role_args, &[])
    }

    /// [`Server::start_role`] with extra environment variables.
    pub fn start_role_env(data: &Path, role_args: &[&str], env: &[(&str, &str)]) -> Server {
        std::fs::create_dir_all(data).expect("create the data directory");
        let addr_file = data.join("addr");
        let _ = std::fs::remove_file(&addr_file);
        let log = Self::log_path(data);
        let log_file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("open the server log");
        let mut child = command()
            .envs(env.iter().copied())
            .arg("--data-dir")
            .arg(data)
            .args(role_args)
            .arg("--addr-file")
            .arg(&addr_file)
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("start aiex");
        let deadline = Instant::now() + SERVER_TIMEOUT;
        let addr = loop {
            let text = std::fs::read_to_string(&addr_file).unwrap_or_default();
            if text.ends_with('\n') {
                break text.trim().to_string();
            }
            if let Some(status) = child.try_wait().expect("poll aiex") {
                panic!(
                    "aiex {role_args:?} exited early ({status}):\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "aiex {role_args:?} wrote no address within {SERVER_TIMEOUT:?}:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(
            addr.starts_with("http://127.0.0.1:"),
            "address file: {addr}"
        );
        Server {
            child: Some(child),
            addr,
            data: data.to_path_buf(),
        }
    }

    fn log_path(data: &Path) -> PathBuf {
        data.join("up.log")
    }

    /// Everything the server(s) on this data directory wrote to stderr.
    pub fn log(&self) -> String {
        Self::log_of(&self.data)
    }

    /// Everything the servers on `data` wrote to stderr, also after they stopped.
    pub fn log_of(data: &Path) -> String {
        std::fs::read_to_string(Self::log_path(data)).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Runs `aiex --addr ADDR ARGS`.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut all = vec!["--addr", self.addr.as_str()];
        all.extend_from_slice(args);
        aiex(&all)
    }

    /// Runs `aiex --addr ADDR ARGS` and returns its JSON; panics (with the server log)
    /// when it fails.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        if !out.status.success() {
            panic!(
                "aiex {args:?} failed ({}): {}\nserver log:\n{}",
                out.status,
                stderr(&out),
                self.log()
            );
        }
        ok_json(args, &out)
    }

    /// Spawns `aiex --addr ADDR ARGS` without waiting (stdout and stderr piped); finish
    /// it with [`wait_output`].
    pub fn spawn(&self, args: &[&str]) -> Child {
        command()
            .arg("--addr")
            .arg(&self.addr)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn aiex")
    }

    /// Starts `aiex chat [--session ID]` against this server with `lines` on its stdin
    /// (closed after them, so the chat ends once they are answered).
    pub fn spawn_chat(&self, session: Option<&str>, lines: &str) -> Child {
        let mut c = command();
        c.arg("--addr").arg(&self.addr).arg("chat");
        if let Some(id) = session {
            c.arg("--session").arg(id);
        }
        let mut child = c
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn aiex chat");
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), lines.as_bytes())
            .expect("write the chat's lines");
        child
    }

    /// Stops the server with SIGTERM, as a service manager does, and returns how it exited.
    pub fn terminate(mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        signal(child.id(), "TERM");
        let deadline = Instant::now() + SERVER_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("poll aiex up") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "aiex up did not stop within {SERVER_TIMEOUT:?} of SIGTERM:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The `IP:PORT` of the metrics and health endpoint (`--metrics-listen`, port 0
    /// included), as the server logged it at start.
    pub fn metrics_addr(&self) -> String {
        let log = self.log();
        let prefix = "metrics and health on http://";
        let line = log
            .lines()
            .rev()
            .find_map(|l| l.split_once(prefix).map(|(_, rest)| rest.to_string()))
            .unwrap_or_else(|| panic!("the server logged no metrics address:\n{log}"));
        line.trim_end_matches("/metrics").to_string()
    }

    /// Kills the server with SIGKILL: no shutdown, no commit.
    pub fn kill_hard(mut self) {
        self.kill_in_place();
    }

    /// SIGKILL, keeping the handle (its data directory and log stay readable).
    pub fn kill_in_place(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().expect("kill -9 aiex up");
        child.wait().expect("reap aiex up");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Copies a directory tree (files and directories only).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read the directory") {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// Every file under `dir`, as paths relative to it.
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("read the directory") {
            let entry = entry.expect("directory entry");
            let path = entry.path();
            if entry.file_type().expect("file type").is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A generated Mix-like project: `files` modules spread over `groups` directories
/// (`lib/gNN/mIIII.ex`), each with `funs` public functions `m<I>f<J>/2`. Every chunk
/// (module header or function) contains the word `zorblax`, so a search for it with a
/// path filter lists every chunk of a directory.
pub struct Generated {
    pub root: PathBuf,
    pub files: usize,
    pub groups: usize,
    pub funs: usize,
}

impl Generated {
    pub fn write(root: &Path, files: usize, groups: usize, funs: usize) -> Generated {
        for i in 0..files {
            let g = i % groups;
            let dir = root.join(format!("lib/g{g:02}"));
            std::fs::create_dir_all(&dir).expect("create a generated directory");
            let mut text = format!(
                "defmodule {} do\n  @moduledoc \"\"\"\n  Generated module {i} of group {g} (zorblax fixture).\n  \"\"\"\n",
                Self::module_name(i, groups)
            );
            for j in 0..funs {
                // Each function after the first calls its predecessor, so the graph has edges.
                let last = if j == 0 {
                    "Enum.sum()".to_string()
                } else {
                    format!("m{i}f{}(limit)", j - 1)
                };
                text.push_str(&format!(
                    "\n  @doc \"Sums the widget counts of m{i}f{j}, dropping widgets heavier than the limit (zorblax).\"\n  \
                     @spec m{i}f{j}(list(map()), integer()) :: integer()\n  \
                     def m{i}f{j}(widgets, limit) when is_list(widgets) do\n    \
                     widgets\n    \
                     |> Enum.reject(fn w -> Map.get(w, :weight, 0) > limit end)\n    \
                     |> Enum.map(fn w -> Map.get(w, :count, 0) * {} end)\n    \
                     |> {last}\n  \
                     end\n",
                    j + 1
                ));
            }
            text.push_str("end\n");
            std::fs::write(dir.join(format!("m{i:04}.ex")), text).expect("write a module");
        }
        Generated {
            root: root.to_path_buf(),
            files,
            groups,
            funs,
        }
    }

    pub fn module_name(i: usize, groups: usize) -> String {
        format!("Gen.G{:02}.M{i:04}", i % groups)
    }

    /// The qualified name of function `j` of module `i`.
    pub fn function(&self, i: usize, j: usize) -> String {
        format!("{}.m{i}f{j}/2", Self::module_name(i, self.groups))
    }

    pub fn group_dir(g: usize) -> String {
        format!("lib/g{g:02}/")
    }
}

/// The hits of a `search --json` answer, as an array.
pub fn hits(answer: &Value) -> &Vec<Value> {
    answer["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("no hits array in {answer}"))
}

/// The best hit of a `search --json` answer; panics when there is none.
pub fn top_hit(answer: &Value) -> &Value {
    hits(answer)
        .first()
        .unwrap_or_else(|| panic!("no hits: {answer}"))
}

/// The `symbol` of every hit.
pub fn hit_symbols(answer: &Value) -> Vec<String> {
    hits(answer)
        .iter()
        .map(|h| h["symbol"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// A `--json` number field.
pub fn num(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no number `{key}` in {v}"))
}

/// A port free on 127.0.0.1 right now (bound then released: another process may take
/// it first, so prefer port 0 where the server can report what it bound).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}

/// `GET http://ADDR/PATH` (HTTP/1.1, no keep-alive): the status code and the body.
pub fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr)
        .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    stream
        .set_read_timeout(Some(COMMAND_TIMEOUT))
        .expect("set a read timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send the request");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .expect("read the response");
    let response = String::from_utf8(response).expect("a UTF-8 response");
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {response}"));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head}"));
    (status, body.to_string())
}
