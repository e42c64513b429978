//! Integration tests of the `source` crate against real Git servers (`git http-backend`,
//! `git daemon`, OpenSSH `sshd`) and a real artifact server, all on 127.0.0.1.

#[path = "source/common.rs"]
mod common;
#[path = "source/consumer.rs"]
mod consumer;
#[path = "source/git_backends.rs"]
mod git_backends;
#[path = "source/git_daemon.rs"]
mod git_daemon;
#[path = "source/git_http.rs"]
mod git_http;
#[path = "source/git_https.rs"]
mod git_https;
#[path = "source/git_ssh.rs"]
mod git_ssh;
#[path = "source/storage.rs"]
mod storage;
#[path = "source/verify.rs"]
mod verify;
