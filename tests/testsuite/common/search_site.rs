//! A search fixture site and a generator of Lustre-like search documents, shared by
//! `tests/search_build.rs` and `tests/search_browser.rs` (included with `#[path]`). Benchmarks
//! of search at scale build generated archives instead: `benches/search/run.sh`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use hindsight::render::PageSink;
use hindsight::search::{DocKind, SearchDoc};

/// Writes straight into a folder (tests and benchmarks only; the build uses `Staging`).
pub struct DirSink(pub PathBuf);
impl PageSink for DirSink {
    fn put(&self, path: &str, bytes: &[u8]) -> hindsight::Result<()> {
        let p = self.0.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, bytes).map_err(|e| hindsight::Error::io(&p, e))
    }

    fn put_file(&self, path: &str, source: &Path) -> hindsight::Result<()> {
        let bytes = fs::read(source).map_err(|e| hindsight::Error::io(source, e))?;
        self.put(path, &bytes)
    }
}

/// Keeps files in memory.
#[derive(Default)]
pub struct MemSink(pub Mutex<BTreeMap<String, Vec<u8>>>);
impl PageSink for MemSink {
    fn put(&self, path: &str, bytes: &[u8]) -> hindsight::Result<()> {
        let old = self
            .0
            .lock()
            .unwrap()
            .insert(path.to_string(), bytes.to_vec());
        assert!(old.is_none(), "{path} written twice");
        Ok(())
    }

    fn put_file(&self, path: &str, source: &Path) -> hindsight::Result<()> {
        let bytes = fs::read(source).map_err(|e| hindsight::Error::io(source, e))?;
        self.put(path, &bytes)
    }
}

fn issue(
    key: &str,
    title: &str,
    status: &str,
    component: &str,
    fix: &str,
    year: i32,
    body: &[&str],
) -> SearchDoc {
    let (proj, num) = key.rsplit_once('-').unwrap();
    let num: u32 = num.parse().unwrap();
    SearchDoc {
        kind: DocKind::Issue,
        key: key.to_string(),
        title: title.to_string(),
        status: Some(status.to_string()),
        project: Some(proj.to_string()),
        issue_type: Some(
            if title.starts_with("Doc") {
                "Improvement"
            } else {
                "Bug"
            }
            .to_string(),
        ),
        components: if component.is_empty() {
            vec![]
        } else {
            vec![component.to_string()]
        },
        fix_versions: if fix.is_empty() {
            vec![]
        } else {
            vec![fix.to_string()]
        },
        versions: vec![],
        labels: vec![],
        year: Some(year),
        path: format!("issues/{proj}/{}/{key}.html", num / 1000),
        body: body.iter().map(|s| s.to_string()).collect(),
    }
}

/// The hand-written documents the tests look for, among generated ones.
pub fn fixture_docs() -> Vec<SearchDoc> {
    let mut v = vec![
        issue("LU-1001", "ldlm_lock_cancel() hits LBUG under memory pressure", "Open", "ldlm", "Lustre 2.15.0", 2019, &[
            "Client crashed while cancelling locks during an OST failover.",
            "LustreError: 4312:0:(ldlm_lock.c:872:ldlm_lock_cancel()) ASSERTION( !lock->l_readers ) failed: lock ffff8800deadbeef\nLustreError: 4312:0:(ldlm_lock.c:872:ldlm_lock_cancel()) LBUG\nPid: 4312, comm: ldlm_bl_04",
            "Seen twice on the test cluster, always after eviction of the client.",
        ]),
        issue("LU-1002", "osc_extent_wait hangs after the client is evicted", "Resolved", "osc", "Lustre 2.12.0", 2016, &[
            "osc_extent_wait() never returns; the writer sees -EIO after the import is invalidated.",
            "rc = -5 from ptlrpc_queue_wait",
        ]),
        issue("LU-1003", "MGS mount fails with rc = -2 when the config log is missing", "Closed", "mgs", "Lustre 2.10.0", 2014, &[
            "mount.lustre: mount /dev/sda at /mnt/mgs failed: No such file or directory; rc = -2",
            "unable to mount the MGS after upgrade, see the attached log",
        ]),
        issue("LU-1004", "mount hangs, client unable after remount", "Open", "llite", "", 2021, &[
            "The mount command returns but the client is unable to list files; remount to recover.",
        ]),
        issue("LU-1005", "文件系统错误 on OST after power loss", "Open", "ost", "", 2022, &[
            "日本語のログ: ディスクエラー. Greek: ΣΦΑΛΜΑ ΣΥΣΤΗΜΑΤΟΣ, İstanbul site.",
        ]),
        issue("LUDOC-17", "Documentation: describe lfs setstripe pool options", "Open", "documentation", "", 2018, &[
            "The manual lacks the --pool option of lfs setstripe.",
        ]),
        issue("LU-1006", "Wrong counters in /proc/fs/lustre/osc/*/stats", "Reopened", "osc", "Lustre 2.15.0", 2023, &[
            "lustre/osc/lproc_osc.c prints the wrong value for the read_bytes counter.",
        ]),
        issue("BZ-12755", "MDS LBUG in mds_reint after failover", "Closed", "mds", "", 2007, &[
            "The MDS hit an LBUG in mds_reint_open during recovery.",
        ]),
    ];
    // Phrases: the words of "lock cancel" reversed, and apart.
    v.push(issue(
        "LU-1008",
        "Client must cancel lock callbacks early",
        "Open",
        "ldlm",
        "",
        2020,
        &["Each cancel lock request waits for the callback timer."],
    ));
    v.push(issue(
        "LU-1009",
        "lock contention makes cancel requests time out",
        "Open",
        "ldlm",
        "",
        2020,
        &["Under contention the lock is held while the cancel is queued."],
    ));
    // A phrase of three words whose pairs are here, but apart ("unable to", "to mount"), and
    // a phrase found only in the component.
    v.push(issue(
        "LU-1010",
        "Remount fails on the client",
        "Open",
        "Lustre Network Driver",
        "",
        2020,
        &["The client was unable to reconnect, so we had to mount it by hand."],
    ));
    v.push(long_issue());
    v.push(SearchDoc {
        kind: DocKind::Commit,
        key: "3f2a9c1e0b7d4c6a8e9f0a1b2c3d4e5f60718293".into(),
        title: "LU-1001 ldlm: fix the lock cancel race".into(),
        status: None,
        project: None,
        issue_type: None,
        components: vec![],
        fix_versions: vec![],
        versions: vec![],
        labels: vec![],
        year: Some(2020),
        path: "commits/3f/3f2a9c1e0b7d4c6a8e9f0a1b2c3d4e5f60718293.html".into(),
        body: vec!["Take the resource lock before checking l_readers in ldlm_lock_cancel().\n\nSigned-off-by: Jane Doe".into(), "Jane Doe".into()],
    });
    v.extend(generated(3000, 7, 2000));
    v
}

/// LU-1007: a 50 KB console log in a comment, the only mention of `ofd_destroy_by_fid` near
/// its end, so a snippet must come from deep in the text.
fn long_issue() -> SearchDoc {
    let mut log = String::new();
    let mut i = 0;
    while log.len() < 50_000 {
        log.push_str(&format!(
            "[{}.{:06}] Lustre: {}:0:(client.c:{}:ptlrpc_expire_one_request()) @@@ Request sent has timed out for slow reply: [sent {}]\n",
            1_600_000 + i, i * 37 % 1_000_000, 3000 + i % 97, 2000 + i % 300, 1_600_000 + i
        ));
        i += 1;
    }
    log.push_str(
        "LustreError: 5521:0:(ofd_obd.c:1130:ofd_destroy_by_fid()) destroy failed: rc = -116\n",
    );
    log.push_str("Lustre: the OST recovered after the restart.");
    issue(
        "LU-1007",
        "OSS console log after the network outage",
        "Open",
        "ofd",
        "",
        2021,
        &["Console log of the OSS attached below.", log.as_str()],
    )
}

/// Deterministic pseudo-random numbers (splitmix64).
pub struct Rng(u64);
impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// Zipf-like rank in 0..n.
    pub fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        (((n as f64 + 1.0).powf(u) - 1.0) as usize).min(n - 1)
    }
}

const COMMON: &[&str] = &[
    "the",
    "a",
    "to",
    "of",
    "and",
    "is",
    "in",
    "on",
    "for",
    "with",
    "this",
    "that",
    "it",
    "client",
    "server",
    "lock",
    "file",
    "when",
    "not",
    "after",
    "test",
    "patch",
    "we",
    "be",
    "are",
    "was",
    "from",
    "mdt",
    "ost",
    "error",
    "fails",
    "failed",
    "see",
    "log",
    "should",
    "can",
    "node",
    "run",
    "by",
    "debug",
    "crash",
    "lustre",
    "issue",
    "fix",
    "mount",
    "timeout",
    "request",
    "recovery",
    "evicted",
    "import",
    "object",
    "write",
    "read",
    "stripe",
    "layout",
    "quota",
    "lnet",
    "network",
    "memory",
    "kernel",
    "thread",
    "stack",
    "trace",
    "hang",
    "race",
    "reply",
    "rpc",
    "llog",
    "journal",
    "changelog",
    "hsm",
    "lfsck",
    "dne",
    "pfl",
    "flr",
    "ldiskfs",
    "zfs",
    "osd",
    "mgs",
    "mds",
    "oss",
    "failover",
    "upgrade",
    "version",
    "build",
    "review",
    "landed",
    "master",
    "branch",
    "port",
];
const FUNCS: &[&str] = &[
    "ldlm_lock_decref",
    "ldlm_cli_enqueue",
    "ptlrpc_queue_wait",
    "ptlrpc_check_set",
    "osc_brw_prep_request",
    "mdt_reint_open",
    "ll_file_read",
    "ll_setattr_raw",
    "lod_qos_prep_create",
    "ofd_commitrw",
    "osd_trans_start",
    "lnet_parse",
    "kiblnd_cm_callback",
    "mgc_process_log",
    "lfsck_layout_scan",
    "llog_cat_process",
    "qsd_op_begin",
    "lov_io_init",
    "cl_page_assume",
    "vvp_io_write_start",
];
const STATUSES: &[&str] = &["Open", "In Progress", "Resolved", "Closed", "Reopened"];
const COMPONENTS: &[&str] = &[
    "ldlm",
    "ptlrpc",
    "osc",
    "mdc",
    "lnet",
    "llite",
    "mdt",
    "ofd",
    "osd-ldiskfs",
    "osd-zfs",
    "lfsck",
    "hsm",
    "quota",
    "mgs",
];

fn word(rng: &mut Rng, vocab: usize) -> String {
    let r = rng.zipf(vocab + COMMON.len());
    if r < COMMON.len() {
        return COMMON[r].to_string();
    }
    // A pseudo-word for the long tail, stable for its rank.
    let mut x = Rng::new(r as u64 * 7919);
    let syl = [
        "ka", "lo", "mi", "re", "tu", "sen", "dar", "vo", "pi", "ne", "qua", "tor", "lin", "ex",
        "ul",
    ];
    let n = 2 + x.below(3) as usize;
    (0..n)
        .map(|_| syl[x.below(syl.len() as u64) as usize])
        .collect()
}

fn sentence(rng: &mut Rng, vocab: usize, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        match rng.below(40) {
            0 => s.push_str(FUNCS[rng.below(FUNCS.len() as u64) as usize]),
            1 => s.push_str(&format!("LU-{}", 1 + rng.below(20000))),
            2 => s.push_str(&format!("rc = -{}", 1 + rng.below(120))),
            _ => s.push_str(&word(rng, vocab)),
        }
    }
    s.push('.');
    s
}

/// `n` generated issues `LU-<first>..`, Lustre-flavoured text with a Zipf vocabulary of
/// `vocab` words, log lines with random pids and addresses.
pub fn generated(n: usize, seed: u64, first: u32) -> Vec<SearchDoc> {
    generated_iter(n, seed, first, 20_000).collect()
}

pub fn generated_iter(
    n: usize,
    seed: u64,
    first: u32,
    vocab: usize,
) -> impl Iterator<Item = SearchDoc> {
    (0..n).map(move |i| {
        let mut rng = Rng::new(seed ^ (i as u64).wrapping_mul(0x2545F4914F6CDD1D));
        let key = format!("LU-{}", first as usize + i);
        let nw = 4 + rng.below(8) as usize;
        let title = sentence(&mut rng, vocab, nw);
        let title = title.trim_end_matches('.').to_string();
        let mut body = Vec::new();
        let paras = 1 + rng.below(4);
        let mut desc = String::new();
        for _ in 0..paras {
            let nw = 8 + rng.below(30) as usize;
            desc.push_str(&sentence(&mut rng, vocab, nw));
            desc.push(' ');
        }
        body.push(desc);
        if rng.below(3) == 0 {
            let f = FUNCS[rng.below(FUNCS.len() as u64) as usize];
            body.push(format!(
                "LustreError: {}:0:({}.c:{}:{}()) ASSERTION( {} ) failed: addr {:016x}\nLustreError: {}:0:({}.c:{}:{}()) LBUG",
                rng.below(60000), f.split('_').next().unwrap(), rng.below(3000), f, word(&mut rng, vocab),
                rng.next_u64(), rng.below(60000), f.split('_').next().unwrap(), rng.below(3000), f
            ));
        }
        for _ in 0..rng.below(6) {
            let nw = 10 + rng.below(50) as usize;
            body.push(sentence(&mut rng, vocab, nw));
        }
        let num = first as usize + i;
        SearchDoc {
            kind: DocKind::Issue,
            key: key.clone(),
            title,
            status: Some(STATUSES[rng.below(STATUSES.len() as u64) as usize].to_string()),
            project: Some("LU".into()),
            issue_type: Some(["Bug", "Improvement", "Task", "Question"][rng.below(4) as usize].to_string()),
            components: vec![COMPONENTS[rng.below(COMPONENTS.len() as u64) as usize].to_string()],
            fix_versions: if rng.below(2) == 0 { vec![format!("Lustre 2.{}.0", 1 + rng.below(16))] } else { vec![] },
            versions: vec![],
            labels: vec![],
            year: Some(2010 + rng.below(15) as i32),
            path: format!("issues/LU/{}/{key}.html", num / 1000),
            body,
        }
    })
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Renders a page with the real base template.
fn tera() -> tera::Tera {
    let mut t = tera::Tera::default();
    let dir = repo().join("themes/default/templates");
    t.add_raw_template(
        "base.html",
        &fs::read_to_string(dir.join("base.html")).unwrap(),
    )
    .unwrap();
    t.add_raw_template(
        "search.html",
        &fs::read_to_string(dir.join("search.html")).unwrap(),
    )
    .unwrap();
    t.add_raw_template(
        "doc.html",
        "{% extends \"base.html\" %}{% block title %}{{ key }}{% endblock title %}{% block content %}<h1>{{ key }} {{ title }}</h1><p class=\"meta\">{{ status }}</p>{% for b in body %}<pre>{{ b }}</pre>{% endfor %}{% endblock content %}",
    )
    .unwrap();
    t
}

fn root_of(path: &str) -> String {
    "../".repeat(path.matches('/').count())
}

/// Writes a browsable site: the search page, the client, a page per document (when `pages`),
/// the static index. Returns the search report.
pub fn write_site(
    dir: &Path,
    docs: Vec<SearchDoc>,
    pages: bool,
) -> hindsight::search::SearchReport {
    fs::create_dir_all(dir.join("static")).unwrap();
    // The client, the site script and the style as a build publishes them.
    let theme = hindsight::inputs::Theme {
        root: repo().join("themes/default"),
        files: Default::default(),
    };
    for (path, bytes) in hindsight::render::templates::static_files(&theme) {
        fs::write(dir.join(path), bytes).unwrap();
    }
    let t = tera();
    let mut ctx = tera::Context::new();
    ctx.insert("root", "");
    ctx.insert("site_title", "Fixture archive");
    ctx.insert("nav_pages", &Vec::<()>::new());
    fs::write(
        dir.join("search.html"),
        t.render("search.html", &ctx).unwrap(),
    )
    .unwrap();
    fs::write(
        dir.join("index.html"),
        t.render("search.html", &ctx).unwrap(),
    )
    .unwrap();
    if pages {
        for d in &docs {
            let mut c = ctx.clone();
            c.insert("root", &root_of(&d.path));
            c.insert("key", &d.key);
            c.insert("title", &d.title);
            c.insert("status", &d.status);
            c.insert("body", &d.body);
            let p = dir.join(&d.path);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, t.render("doc.html", &c).unwrap()).unwrap();
        }
    }
    fs::write(dir.join("favicon.ico"), b"").unwrap();
    let mut lists = dir.join("lists");
    fs::create_dir_all(&lists).unwrap();
    lists.push("index.html");
    fs::write(lists, "<!DOCTYPE html><title>Lists</title>").unwrap();
    let options = hindsight::search::Options {
        bug_prefix: Some("BZ".into()),
        ..Default::default()
    };
    hindsight::search::build(docs.into_iter(), &DirSink(dir.to_path_buf()), &options).unwrap()
}
