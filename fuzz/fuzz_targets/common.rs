// Shared by the importer targets: importers read files, so the input goes to a file in memory
// (/dev/shm when there is one) and the importer reads it; every record is consumed.
use std::path::PathBuf;

use hindsight::import::{Record, Source};

pub type ReadFile = fn(
    &std::path::Path,
    &Source,
    &mut dyn FnMut(Record) -> hindsight::Result<()>,
) -> hindsight::Result<()>;

fn scratch(name: &str) -> PathBuf {
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("hindsight-fuzz-{}-{name}", std::process::id()))
}

pub fn run(name: &str, read: ReadFile, data: &[u8]) {
    let path = scratch(name);
    std::fs::write(&path, data).unwrap();
    let source = Source {
        name: "fuzz".into(),
        key_prefix: Some("BZ".into()),
        ..Default::default()
    };
    let mut n = 0usize;
    let _ = read(&path, &source, &mut |r| {
        // Serialising each issue exercises every field the importer filled in.
        if let Record::Issue(i) = &r {
            let json = serde_json::to_string(i).unwrap();
            let back: hindsight::model::Issue = serde_json::from_str(&json).unwrap();
            assert_eq!(back.key, i.key);
        }
        n += 1;
        Ok(())
    });
    let _ = n;
}
