//! Building git repositories for tests with the `git` binary (the library itself never runs
//! it), with fixed identities and dates so every run makes the same commit ids, and writing
//! tiny JIRA exports in the "Export XML" shape.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A repository being built.
pub struct Repo {
    /// Its work tree.
    pub dir: PathBuf,
    home: PathBuf,
    /// Seconds since the epoch of the next commit.
    pub clock: i64,
}

impl Repo {
    /// `git init` in `dir` (created), default branch `master`.
    pub fn init(dir: &Path) -> Repo {
        std::fs::create_dir_all(dir).unwrap();
        let home = dir.with_extension("home");
        std::fs::create_dir_all(&home).unwrap();
        let repo = Repo {
            dir: dir.to_path_buf(),
            home,
            clock: 1_262_340_000, // 2010-01-01
        };
        repo.git(&["init", "-q", "-b", "master"]);
        repo
    }

    /// An existing repository made by [`Repo::init`].
    pub fn open(dir: &Path) -> Repo {
        Repo {
            dir: dir.to_path_buf(),
            home: dir.with_extension("home"),
            clock: 1_262_340_000,
        }
    }

    fn command(&self) -> Command {
        let mut c = Command::new("git");
        c.current_dir(&self.dir)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.home.join("gitconfig"))
            .env("GIT_AUTHOR_NAME", "Ann Author")
            .env("GIT_AUTHOR_EMAIL", "ann@example.com")
            .env("GIT_COMMITTER_NAME", "Carl Committer")
            .env("GIT_COMMITTER_EMAIL", "carl@example.com")
            .env("GIT_AUTHOR_DATE", format!("@{} +0200", self.clock))
            .env("GIT_COMMITTER_DATE", format!("@{} +0200", self.clock + 60));
        c
    }

    /// Runs git; panics with its output on failure; returns stdout trimmed.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_env(args, &[])
    }

    /// Runs git with extra environment variables.
    pub fn git_env(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let mut c = self.command();
        c.args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Writes files, commits everything with `message`, advances the clock a day; returns
    /// the commit id.
    pub fn commit(&mut self, message: &str, files: &[(&str, &str)]) -> String {
        self.commit_as(message, files, None)
    }

    /// Like [`Repo::commit`], with another author `(name, email)`.
    pub fn commit_as(
        &mut self,
        message: &str,
        files: &[(&str, &str)],
        author: Option<(&str, &str)>,
    ) -> String {
        for (path, content) in files {
            let p = self.dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, content).unwrap();
        }
        self.git(&["add", "-A"]);
        let msg = self.dir.with_extension("msg");
        std::fs::write(&msg, message).unwrap();
        let msg = msg.to_string_lossy().into_owned();
        match author {
            Some((name, email)) => self.git_env(
                &["commit", "-q", "--allow-empty", "-F", &msg],
                &[("GIT_AUTHOR_NAME", name), ("GIT_AUTHOR_EMAIL", email)],
            ),
            None => self.git(&["commit", "-q", "--allow-empty", "-F", &msg]),
        };
        self.clock += 86_400;
        self.git(&["rev-parse", "HEAD"])
    }

    /// A commit whose message is raw bytes, made with `git commit-tree` on top of HEAD's tree
    /// (`encoding` sets `i18n.commitEncoding`, which git records in the commit header), and
    /// moved to `branch`.
    pub fn raw_commit(&mut self, message: &[u8], encoding: Option<&str>, branch: &str) -> String {
        let msg = self.dir.with_extension("rawmsg");
        std::fs::write(&msg, message).unwrap();
        let tree = self.git(&["rev-parse", "HEAD^{tree}"]);
        let head = self.git(&["rev-parse", "HEAD"]);
        let config = format!("i18n.commitEncoding={}", encoding.unwrap_or("UTF-8"));
        let mut args = vec![];
        if encoding.is_some() {
            args.extend(["-c", config.as_str()]);
        }
        let msg = msg.to_string_lossy().into_owned();
        args.extend([
            "commit-tree",
            tree.as_str(),
            "-p",
            head.as_str(),
            "-F",
            msg.as_str(),
        ]);
        let id = self.git(&args);
        self.git(&["update-ref", &format!("refs/heads/{branch}"), &id]);
        self.clock += 86_400;
        id
    }

    /// Writes a commit object as given (parents need not exist, the message is raw bytes:
    /// git's own commands would re-encode invalid UTF-8) and points `branch` at it.
    pub fn write_commit(&mut self, parents: &[&str], message: &[u8], branch: &str) -> String {
        let headers = format!(
            "author Ann Author <ann@example.com> {t} +0200\ncommitter Carl Committer <carl@example.com> {t} +0200\n",
            t = self.clock
        );
        self.write_commit_with(parents, headers.as_bytes(), message, branch)
    }

    /// Like [`Repo::write_commit`], with the header lines after `tree` and `parent` given as
    /// raw bytes (`author …\ncommitter …\n`, and any other header): identities git's own
    /// commands would refuse or clean (`<` and `>` in a name) are written as they are.
    pub fn write_commit_with(
        &mut self,
        parents: &[&str],
        headers: &[u8],
        message: &[u8],
        branch: &str,
    ) -> String {
        let tree = self.git(&["rev-parse", "HEAD^{tree}"]);
        let mut body = format!("tree {tree}\n").into_bytes();
        for p in parents {
            body.extend_from_slice(format!("parent {p}\n").as_bytes());
        }
        body.extend_from_slice(headers);
        body.push(b'\n');
        body.extend_from_slice(message);
        let file = self.dir.with_extension("obj");
        std::fs::write(&file, body).unwrap();
        let id = self.git(&[
            "hash-object",
            "-t",
            "commit",
            "-w",
            "--literally",
            &file.to_string_lossy(),
        ]);
        self.git(&["update-ref", &format!("refs/heads/{branch}"), &id]);
        self.clock += 86_400;
        id
    }

    /// A commit whose parent does not exist (as at a shallow clone's edge), on `branch`.
    /// Returns its id and the missing parent's.
    pub fn commit_with_missing_parent(&mut self, subject: &str, branch: &str) -> (String, String) {
        let missing = "0123456789abcdef0123456789abcdef01234567".to_string();
        let id = self.write_commit(&[&missing], format!("{subject}\n").as_bytes(), branch);
        (id, missing)
    }
}

/// One issue of a tiny JIRA export.
pub struct JiraIssue<'a> {
    /// `LU-1`
    pub key: &'a str,
    /// Internal id.
    pub id: u32,
    /// Summary.
    pub summary: &'a str,
    /// Description HTML (unescaped; escaped here).
    pub description: &'a str,
    /// Fix versions.
    pub fix_versions: &'a [&'a str],
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A JIRA "Export XML" page holding `issues`, in the shape JIRA writes it.
pub fn jira_export(issues: &[JiraIssue]) -> String {
    let mut out = String::from(
        "<!-- \nRSS generated by JIRA (9.4.14#940014-sha1:734b9ad6e2ee4ed93ea4f9b6a3ad4f5e9b0d1b0e) at Tue Aug 08 10:00:00 UTC 2023\n-->\n<rss version=\"0.92\" >\n<channel>\n    <title>Whamcloud Community JIRA</title>\n    <link>https://jira.whamcloud.com/issues/</link>\n    <description>An XML representation of a search request</description>\n    <language>en-us</language>\n",
    );
    out.push_str(&format!(
        "    <issue start=\"0\" end=\"{n}\" total=\"{n}\"/>\n",
        n = issues.len()
    ));
    for i in issues {
        let project = i.key.split('-').next().unwrap();
        out.push_str(&format!(
            r#"<item>
            <title>[{key}] {summary}</title>
                <link>https://jira.whamcloud.com/browse/{key}</link>
                <project id="10000" key="{project}">Lustre</project>
                    <description>{description}</description>
                <environment></environment>
        <key id="{id}">{key}</key>
            <summary>{summary}</summary>
                <type id="1" iconUrl="https://jira.whamcloud.com/x.png">Bug</type>
                <priority id="3" iconUrl="https://jira.whamcloud.com/x.png">Major</priority>
                        <status id="6" iconUrl="https://jira.whamcloud.com/x.png" description="Closed">Resolved</status>
                    <statusCategory id="3" key="done" colorName="success"/>
                                    <resolution id="1">Fixed</resolution>
                                        <assignee username="ann">Ann Author</assignee>
                                    <reporter username="carl">Carl Committer</reporter>
                        <labels>
                    </labels>
                <created>Fri, 1 Jan 2010 10:00:00 +0000</created>
                <updated>Mon, 1 Mar 2010 10:00:00 +0000</updated>
{fix}                        <due></due>
                            <votes>0</votes>
                                    <watches>1</watches>
                    <comments>
                    </comments>
                <attachments>
                    </attachments>
                <subtasks>
                    </subtasks>
                <customfields>
                    </customfields>
    </item>
"#,
            key = i.key,
            id = i.id,
            summary = xml_escape(i.summary),
            description = xml_escape(i.description),
            fix = i
                .fix_versions
                .iter()
                .map(|v| format!("                                    <fixVersion>{}</fixVersion>\n", xml_escape(v)))
                .collect::<String>(),
        ));
    }
    out.push_str("</channel>\n</rss>\n");
    out
}
