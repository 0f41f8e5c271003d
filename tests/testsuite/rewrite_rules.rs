//! The generated nginx rules, loaded into a real nginx on loopback: every old URL form answers
//! with a 301 to the right page, and the page is there. Needs Debian's `nginx` (scripts/test
//! installs it); a missing nginx fails the test.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;

use crate::common::*;

fn head(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut r = String::new();
    s.read_to_string(&mut r).unwrap();
    r.split("\r\n\r\n").next().unwrap_or("").to_string()
}

#[test]
fn nginx_answers_old_urls_with_the_generated_rules() {
    let (dir, site) = example();
    add_bugs(&site, &[(7, "a"), (24504, "b")]);
    build(&site).unwrap();
    let public = site.join("public");

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let prefix = dir.path().join("nginx");
    std::fs::create_dir_all(prefix.join("logs")).unwrap();
    let conf = format!(
        "daemon off;\nmaster_process off;\npid {p}/nginx.pid;\nerror_log {p}/logs/error.log;\nevents {{}}\nhttp {{\n  access_log off;\n  client_body_temp_path {p}/tmp;\n  proxy_temp_path {p}/tmp;\n  fastcgi_temp_path {p}/tmp;\n  uwsgi_temp_path {p}/tmp;\n  scgi_temp_path {p}/tmp;\n  server {{\n    listen 127.0.0.1:{port};\n    root {root};\n    include {root}/_hindsight/nginx.conf;\n  }}\n}}\n",
        p = prefix.display(),
        root = public.display(),
    );
    std::fs::write(prefix.join("nginx.conf"), conf).unwrap();
    let mut nginx = Command::new("nginx")
        .arg("-p")
        .arg(&prefix)
        .arg("-c")
        .arg(prefix.join("nginx.conf"))
        .spawn()
        .expect("nginx is needed for this test (apt-get install nginx-light; scripts/test does)");
    let mut up = false;
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let cases = [
        ("/browse/LU-12", "/issues/LU/0/LU-12.html"),
        ("/browse/LU-999", "/issues/LU/0/LU-999.html"),
        ("/browse/LU-1000", "/issues/LU/1/LU-1000.html"),
        ("/browse/LU-16893", "/issues/LU/16/LU-16893.html"),
        ("/show_bug.cgi?id=7", "/issues/BZ/0/BZ-7.html"),
        ("/show_bug.cgi?id=24504", "/issues/BZ/24/BZ-24504.html"),
    ];
    let results: Vec<(String, String)> = cases
        .iter()
        .map(|(from, _)| (from.to_string(), head(port, from)))
        .collect();
    nginx.kill().unwrap();
    nginx.wait().unwrap();
    assert!(
        up,
        "nginx did not start: {:?}",
        std::fs::read_to_string(prefix.join("logs/error.log"))
    );
    for ((from, to), (_, response)) in cases.iter().zip(&results) {
        assert!(response.starts_with("HTTP/1.1 301"), "{from}: {response}");
        assert!(
            response
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("location:") && l.ends_with(to)),
            "{from} → {response}"
        );
        assert!(public.join(&to[1..]).is_file(), "{to} does not exist");
    }
}
