//! moto's server on a free loopback port, for the CloudWatch tests: tests/cloudwatch.rs
//! (through tests/common's `Need::Moto` and `Moto`) and crates/delivery/tests/moto.rs.
//! `.ci/moto-venv` makes the venv; nothing here touches a real AWS endpoint.

#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How to get moto, for skip messages.
pub const MOTO_INSTALL: &str = "run .ci/moto-venv, or set IKESIM_MOTO_VENV";

/// The venv `.ci/moto-venv` made: `$IKESIM_MOTO_VENV`, else `~/.cache/ikesim/moto-venv`.
pub fn moto_venv() -> PathBuf {
    if let Some(dir) = std::env::var_os("IKESIM_MOTO_VENV").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").unwrap_or_default();
    Path::new(&home).join(".cache/ikesim/moto-venv")
}

/// The venv's Python.
pub fn moto_python() -> PathBuf {
    moto_venv().join("bin/python")
}

/// The venv's AWS CLI.
pub fn moto_aws_cli() -> PathBuf {
    moto_venv().join("bin/aws")
}

/// What is missing for moto, if anything (the venv's Python with moto's server, boto3 and
/// the AWS CLI).
pub fn moto_missing() -> Option<String> {
    let python = moto_python();
    let ok = Command::new(&python)
        .args(["-c", "import moto.server, boto3, awscli"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    (!ok).then(|| {
        format!(
            "moto ({} with moto[server], boto3 and awscli)",
            python.display()
        )
    })
}

/// A running `python -m moto.server`, killed when dropped.
pub struct Moto {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Moto {
    /// Starts moto on a free port, trying another port if it was taken meanwhile, and
    /// waits until it answers.
    pub fn start() -> Moto {
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(moto_python())
                .args([
                    "-m",
                    "moto.server",
                    "-H",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start moto's server");
            // Startup (imports) takes a few seconds; a generous bound only against a hang.
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    last = format!("moto on port {port} exited at start ({status})");
                    break;
                }
                let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
                if TcpStream::connect_timeout(&addr.into(), Duration::from_millis(200)).is_ok() {
                    return Moto {
                        child,
                        port,
                        url: format!("http://127.0.0.1:{port}"),
                    };
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    last = format!("moto on port {port} did not answer within 60 s");
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("could not start moto's server: {last}");
    }

    /// [`aws_env`] with this moto's endpoint.
    pub fn env<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        aws_env(command, &self.url)
    }

    /// `python SCRIPT ARGS…` in the venv, with [`Moto::env`]; returns stdout, panicking
    /// with stderr if the script fails.
    pub fn python(&self, script: &Path, args: &[&str]) -> String {
        let out = self
            .env(&mut Command::new(moto_python()))
            .arg(script)
            .args(args)
            .output()
            .expect("run the venv's python");
        assert!(
            out.status.success(),
            "{} {args:?} failed ({}): {}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("the script prints UTF-8")
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sets fake credentials (`testing`), region `us-east-1` and `endpoint` for `command`, and
/// hides the user's own AWS configuration and instance metadata, so a child can only ever
/// reach `endpoint`.
pub fn aws_env<'c>(command: &'c mut Command, endpoint: &str) -> &'c mut Command {
    for var in [
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
        "AWS_ENDPOINT_URL_CLOUDWATCH",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    ] {
        command.env_remove(var);
    }
    command
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // Empty files: no profile of the user's, and no warning about a missing file.
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_ENDPOINT_URL", endpoint)
}
