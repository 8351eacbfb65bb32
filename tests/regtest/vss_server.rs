//! A real VSS server for the backup suites: LDK's `vss-server` (built and cached by
//! scripts/install-vss-server.sh) on a private PostgreSQL cluster (Debian's postgresql-15:
//! `initdb` and `pg_ctl` in a temporary folder, on a loopback port), both started and stopped here.
//! The server runs without auth (each test under its own store id, the app's, from its words), or
//! in JWT mode with the RSA public key it is given (`start_with_jwt`), as a merchant runs it.
//! `make bench`'s backup phase runs the same file (`#[path]`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free port on loopback (this file is also the benchmark's, so it needs nothing of the suites').
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

pub struct VssServer {
    dir: tempfile::TempDir,
    server: Option<Child>,
    pg_port: u16,
    pub port: u16,
    /// The RSA public key (PEM) whose JWTs it accepts, in JWT mode.
    rsa_pem: Option<String>,
}

/// Runs a PostgreSQL tool as the `postgres` user when we are root (PostgreSQL refuses root).
fn as_postgres(tool: &str) -> Command {
    let path = format!("{PG_BIN}/{tool}");
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", &path]);
        c
    } else {
        Command::new(path)
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn binary() -> PathBuf {
    let out = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/install-vss-server.sh"
    ))
    .stderr(Stdio::inherit())
    .output()
    .expect("install-vss-server.sh");
    assert!(out.status.success(), "install-vss-server.sh failed");
    PathBuf::from(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .expect("path")
            .trim(),
    )
}

impl VssServer {
    /// PostgreSQL and vss-server without auth, both on loopback, ready to serve.
    pub fn start() -> VssServer {
        VssServer::start_with(None)
    }

    /// The same in JWT mode: only requests with an RS256 JWT of the key whose public half is
    /// `rsa_pem` are served. (The benchmark, which includes this file, runs without auth.)
    #[allow(dead_code)]
    pub fn start_with_jwt(rsa_pem: &str) -> VssServer {
        VssServer::start_with(Some(rsa_pem.to_string()))
    }

    fn start_with(rsa_pem: Option<String>) -> VssServer {
        let dir = tempfile::Builder::new()
            .prefix("payaiml-vss-")
            .tempdir()
            .expect("tempdir");
        // The postgres user must reach its data and socket folders.
        let status = Command::new("chmod").arg("755").arg(dir.path()).status();
        assert!(status.is_ok_and(|s| s.success()));
        let data = dir.path().join("pg");
        std::fs::create_dir_all(&data).expect("pg dir");
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&data)
                .status();
            assert!(status.is_ok_and(|s| s.success()));
        }
        let init = as_postgres("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .output()
            .expect("initdb");
        assert!(init.status.success(), "initdb: {init:?}");
        let pg_port = free_port();
        let started = as_postgres("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(data.join("postgres.log"))
            .args(["-w", "-o"])
            .arg(format!(
                "-c listen_addresses=127.0.0.1 -p {pg_port} -k {} -c fsync=off",
                data.display()
            ))
            .arg("start")
            .output()
            .expect("pg_ctl");
        assert!(started.status.success(), "pg_ctl start: {started:?}");
        let mut vss = VssServer {
            dir,
            server: None,
            pg_port,
            port: free_port(),
            rsa_pem,
        };
        vss.start_server();
        vss
    }

    fn config(&self) -> PathBuf {
        let path = self.dir.path().join("vss-server-config.toml");
        let jwt = match &self.rsa_pem {
            Some(pem) => format!("\n[jwt_auth_config]\nrsa_pem = \"\"\"\n{pem}\"\"\"\n"),
            None => String::new(),
        };
        let text = format!(
            "{jwt}[server_config]\nbind_address = \"127.0.0.1:{}\"\n\n[postgresql_config]\nusername = \"postgres\"\npassword = \"unused\"\naddress = \"127.0.0.1:{}\"\ndefault_database = \"postgres\"\nvss_database = \"vss\"\n\n[log_config]\nlevel = \"info\"\nfile = \"{}\"\n",
            self.port,
            self.pg_port,
            self.dir.path().join("vss.log").display()
        );
        std::fs::write(&path, text).expect("config");
        path
    }

    /// Starts the server (again) on its port and waits until it answers.
    pub fn start_server(&mut self) {
        let config = self.config();
        let child = Command::new(binary())
            .arg(&config)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("vss-server");
        self.server = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        let client = reqwest::blocking::Client::new();
        loop {
            let ok = client
                .get(format!("http://127.0.0.1:{}/metrics", self.port))
                .timeout(Duration::from_secs(2))
                .send()
                .is_ok_and(|r| r.status().is_success());
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "vss-server did not answer: {}",
                std::fs::read_to_string(self.dir.path().join("vss.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server (the database stays), as a server going away mid-day.
    pub fn stop_server(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The URL the app is given.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/vss", self.port)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("pg")
    }
}

impl Drop for VssServer {
    fn drop(&mut self) {
        self.stop_server();
        let _ = as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"])
            .output();
    }
}
