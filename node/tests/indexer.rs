//! The indexer following a real file log (`LocalBus` in a temporary directory) into a
//! [`PartitionSet`] that holds some of the cluster's partitions: a node indexes exactly
//! the partitions it holds, replays a gained partition from the log, stops following a
//! lost one and deletes it after the grace period, resumes from its watermarks after a
//! restart or a quick regain, and ends with the same index however often a message is
//! delivered.
//!
//! Tests wait on watermarks with generous timeouts and never assert on timing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aiex_node::bus::local::LocalBus;
use aiex_node::bus::{Bus, files};
use aiex_node::chunk::ChunkerConfig;
use aiex_node::indexer::{Indexer, IndexerOptions};
use aiex_node::ingest::PartitionSet;
use aiex_node::search::{Filters, SearchHit, SearchRequest};
use aiex_proto::partition::partition_of;
use aiex_proto::subjects::FILES_STREAM;
use bytes::Bytes;
use tempfile::TempDir;

/// Content one byte over the default size limit.
fn oversized() -> String {
    "#".repeat(ChunkerConfig::default().max_file_bytes as usize + 1)
}

/// Partitions of the test cluster.
const P: u32 = 8;
const REPO: &str = "shop";
/// Files of the project; enough that every partition gets some.
const FILES: usize = 40;
/// Generous bound for indexing on a loaded 2-core machine; tests finish when done.
const WAIT: Duration = Duration::from_secs(60);

/// One Elixir file of the project, findable by a word no other file contains.
#[derive(Debug, Clone)]
struct SourceFile {
    path: String,
    word: String,
    content: String,
}

impl SourceFile {
    fn new(i: usize, version: u32) -> SourceFile {
        let letter = |n: usize| (b'a' + n as u8) as char;
        let word = format!(
            "marker{}{}v{}",
            letter(i / 26),
            letter(i % 26),
            letter(version as usize)
        );
        let module = format!(
            "Part{}{}",
            letter(i / 26).to_ascii_uppercase(),
            letter(i % 26)
        );
        let content = format!(
            "defmodule MyApp.{module} do\n  @moduledoc \"Handles the {word} workflow.\"\n\n  \
             @doc \"Runs {word} on `x`.\"\n  def {word}(x) do\n    x + 1\n  end\nend\n"
        );
        SourceFile {
            path: format!("lib/my_app/part_{i}.ex"),
            word,
            content,
        }
    }

    fn partition(&self) -> u32 {
        partition_of(REPO, &self.path, P)
    }

    /// The file-log record that uploads this version.
    fn record(&self) -> aiex_node::bus::Record {
        let hash = blake3::hash(self.content.as_bytes()).to_hex();
        files::put(
            self.partition(),
            REPO,
            &self.path,
            hash.as_str(),
            0o644,
            Bytes::from(self.content.clone()),
        )
    }
}

fn project() -> Vec<SourceFile> {
    let files: Vec<SourceFile> = (0..FILES).map(|i| SourceFile::new(i, 0)).collect();
    let covered: BTreeSet<u32> = files.iter().map(SourceFile::partition).collect();
    assert_eq!(
        covered.len(),
        P as usize,
        "every partition should hold a file"
    );
    files
}

struct Env {
    tmp: TempDir,
    bus: Arc<dyn Bus>,
}

impl Env {
    fn new() -> Env {
        let tmp = TempDir::new().expect("temp dir");
        let bus = LocalBus::open(&tmp.path().join("bus").join("bus.redb")).expect("open the bus");
        Env {
            tmp,
            bus: Arc::new(bus),
        }
    }

    fn data(&self) -> std::path::PathBuf {
        self.tmp.path().join("data")
    }

    fn open_set(&self) -> Arc<PartitionSet> {
        Arc::new(PartitionSet::open_with(&self.data(), P, []).expect("open the partition set"))
    }

    async fn start(&self, set: Arc<PartitionSet>, grace: Duration, held: &[u32]) -> Arc<Indexer> {
        self.start_chunking(set, grace, held, ChunkerConfig::default())
            .await
    }

    /// Opens the set and starts an indexer holding every partition.
    async fn start_all(&self) -> (Arc<PartitionSet>, Arc<Indexer>) {
        let set = self.open_set();
        let indexer = self
            .start(set.clone(), Duration::from_secs(600), &range(0..P))
            .await;
        (set, indexer)
    }

    async fn start_chunking(
        &self,
        set: Arc<PartitionSet>,
        grace: Duration,
        held: &[u32],
        chunker: ChunkerConfig,
    ) -> Arc<Indexer> {
        Indexer::start_with(
            set,
            self.bus.clone(),
            chunker,
            2,
            IndexerOptions { drop_grace: grace },
            held.iter().copied(),
        )
        .await
        .expect("start the indexer")
    }

    /// Publishes each file (deduplication is by key only, so the same content again is a
    /// new message) and returns the newest sequence per partition.
    async fn publish(&self, files: &[SourceFile]) -> BTreeMap<u32, u64> {
        let records = files.iter().map(SourceFile::record).collect();
        let seqs = self
            .bus
            .publish(FILES_STREAM, records)
            .await
            .expect("publish");
        newest_per_partition(files.iter().map(SourceFile::partition).zip(seqs))
    }

    async fn delete(&self, file: &SourceFile) -> BTreeMap<u32, u64> {
        let record = files::delete(file.partition(), REPO, &file.path);
        let seqs = self
            .bus
            .publish(FILES_STREAM, vec![record])
            .await
            .expect("publish");
        newest_per_partition([(file.partition(), seqs[0])])
    }

    fn partition_dir(&self, p: u32) -> std::path::PathBuf {
        self.data().join(format!("p{p:04}"))
    }
}

fn newest_per_partition(seqs: impl IntoIterator<Item = (u32, u64)>) -> BTreeMap<u32, u64> {
    let mut newest = BTreeMap::new();
    for (p, seq) in seqs {
        let e = newest.entry(p).or_insert(0);
        *e = seq.max(*e);
    }
    newest
}

fn only(targets: &BTreeMap<u32, u64>, held: &[u32]) -> BTreeMap<u32, u64> {
    targets
        .iter()
        .filter(|(p, _)| held.contains(p))
        .map(|(p, s)| (*p, *s))
        .collect()
}

async fn wait_applied(indexer: &Indexer, targets: &BTreeMap<u32, u64>) {
    assert!(
        indexer.wait_applied(targets, WAIT).await,
        "partitions did not reach {targets:?}; watermarks {:?}",
        indexer.watermarks()
    );
}

async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < WAIT, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn request(query: &str) -> SearchRequest {
    SearchRequest {
        query: query.to_string(),
        filters: Filters::default(),
        limit: 20,
    }
}

fn search(set: &PartitionSet, query: &str) -> Vec<SearchHit> {
    set.search(&request(query))
        .unwrap_or_else(|e| panic!("search {query:?} failed: {e}"))
}

fn findable(set: &PartitionSet, file: &SourceFile) -> bool {
    search(set, &file.word)
        .iter()
        .any(|h| h.chunk.repo == REPO && h.chunk.path == file.path)
}

/// Asserts that exactly the files of the `held` partitions are found.
fn assert_findable_exactly(set: &PartitionSet, files: &[SourceFile], held: &[u32]) {
    for f in files {
        let expected = held.contains(&f.partition());
        assert_eq!(
            findable(set, f),
            expected,
            "{} (partition {}) findable should be {expected} with {held:?} held",
            f.path,
            f.partition()
        );
    }
}

/// (path, symbol) of the hits for every file's word.
fn snapshot(set: &PartitionSet, files: &[SourceFile]) -> Vec<Vec<(String, String)>> {
    files
        .iter()
        .map(|f| {
            search(set, &f.word)
                .into_iter()
                .map(|h| (h.chunk.path, h.symbol))
                .collect()
        })
        .collect()
}

fn chunk_count(set: &PartitionSet) -> u64 {
    set.repos().iter().map(|r| r.chunks).sum()
}

fn range(r: std::ops::Range<u32>) -> Vec<u32> {
    r.collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_indexes_its_partitions_and_follows_placement_changes() {
    let env = Env::new();
    let mut files = project();
    let published = env.publish(&files).await;
    let set = env.open_set();
    let indexer = env
        .start(set.clone(), Duration::from_millis(200), &range(0..4))
        .await;

    // Holding 0..3: exactly those files, and nothing of the others on disk.
    wait_applied(&indexer, &only(&published, &range(0..4))).await;
    assert_eq!(set.held(), range(0..4));
    assert_findable_exactly(&set, &files, &range(0..4));
    assert!(!env.partition_dir(5).exists());
    let f0 = files.iter().find(|f| f.partition() == 0).unwrap();
    let f5 = files.iter().find(|f| f.partition() == 5).unwrap();
    let found = set.search_partitions(&request(&f0.word), &[0, 5]).unwrap();
    assert_eq!(found.not_held, vec![5]);
    assert!(found.hits.iter().any(|h| h.chunk.path == f0.path));
    assert!(
        set.search_partitions(&request(&f5.word), &[0, 5])
            .unwrap()
            .hits
            .is_empty()
    );
    let kept = [indexer.watermark(2).unwrap(), indexer.watermark(3).unwrap()];

    // Placement moves to 2..7: 0 and 1 stop, 4..7 replay from the start, 2 and 3 go on.
    indexer.set_held((2..8).collect()).await.unwrap();
    assert_eq!(set.held(), range(2..8));
    assert_eq!(indexer.watermark(0), None);
    assert_eq!(indexer.watermark(2), Some(kept[0]));
    assert_eq!(indexer.watermark(3), Some(kept[1]));
    wait_applied(&indexer, &only(&published, &range(2..8))).await;
    assert_findable_exactly(&set, &files, &range(2..8));

    // A new version of a file in partition 5 is followed, and so is a deletion in 6.
    let i5 = files.iter().position(|f| f.partition() == 5).unwrap();
    let old5 = files[i5].clone();
    files[i5] = SourceFile::new(i5, 1);
    let targets = env.publish(&files[i5..=i5]).await;
    wait_applied(&indexer, &targets).await;
    assert!(findable(&set, &files[i5]));
    assert!(search(&set, &old5.word).is_empty());
    let i6 = files.iter().position(|f| f.partition() == 6).unwrap();
    let deleted = files.remove(i6);
    let targets = env.delete(&deleted).await;
    wait_applied(&indexer, &targets).await;
    assert!(!findable(&set, &deleted));

    // After the grace period the local copies of 0 and 1 are gone.
    wait_until("the lost partitions' directories are deleted", || {
        !env.partition_dir(0).exists() && !env.partition_dir(1).exists()
    })
    .await;
    assert!(env.partition_dir(2).exists() && env.partition_dir(7).exists());

    // At-least-once: the same content delivered again changes nothing.
    let held = range(2..8);
    let chunks = chunk_count(&set);
    let indexed = indexer.files_indexed();
    let before = snapshot(&set, &files);
    let again: Vec<SourceFile> = files
        .iter()
        .filter(|f| held.contains(&f.partition()))
        .cloned()
        .collect();
    let targets = env.publish(&again).await;
    wait_applied(&indexer, &targets).await;
    assert_eq!(chunk_count(&set), chunks);
    assert_eq!(indexer.files_indexed(), indexed);
    assert_eq!(snapshot(&set, &files), before);

    // Gaining 0 back after its copy was deleted replays it from scratch.
    let in0 = files.iter().filter(|f| f.partition() == 0).count() as u64;
    let held = [0, 2, 3, 4, 5, 6, 7];
    indexer.set_held(held.into_iter().collect()).await.unwrap();
    assert_eq!(indexer.watermark(0), Some(0));
    wait_applied(&indexer, &only(&published, &[0])).await;
    assert_eq!(indexer.files_indexed(), indexed + in0);
    assert_findable_exactly(&set, &files, &held);

    indexer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_regained_within_the_grace_period_resumes_from_its_watermark() {
    let env = Env::new();
    let files = project();
    let published = env.publish(&files).await;
    let set = env.open_set();
    let all = range(0..P);
    let indexer = env.start(set.clone(), Duration::from_secs(600), &all).await;
    wait_applied(&indexer, &published).await;
    let mark = indexer.watermark(0).unwrap();
    let indexed = indexer.files_indexed();
    assert_eq!(indexed, FILES as u64);

    indexer.set_held((1..P).collect()).await.unwrap();
    assert_findable_exactly(&set, &files, &range(1..P));
    assert!(env.partition_dir(0).exists(), "kept for the grace period");

    indexer
        .set_held(all.iter().copied().collect())
        .await
        .unwrap();
    assert_eq!(indexer.watermark(0), Some(mark));
    assert_findable_exactly(&set, &files, &all);
    wait_applied(&indexer, &published).await;
    assert_eq!(
        indexer.files_indexed(),
        indexed,
        "nothing was indexed again"
    );

    // It keeps following.
    let i0 = files.iter().position(|f| f.partition() == 0).unwrap();
    let newer = SourceFile::new(i0, 1);
    let targets = env.publish(std::slice::from_ref(&newer)).await;
    wait_applied(&indexer, &targets).await;
    assert!(findable(&set, &newer));
    assert!(!findable(&set, &files[i0]));

    indexer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_resumes_from_its_watermarks() {
    let env = Env::new();
    let files = project();
    let published = env.publish(&files).await;
    let held = [0, 1, 2, 3, 6];
    let (marks, before) = {
        let set = env.open_set();
        let indexer = env
            .start(set.clone(), Duration::from_secs(600), &held)
            .await;
        wait_applied(&indexer, &only(&published, &held)).await;
        indexer.shutdown().await;
        (indexer.watermarks(), snapshot(&set, &files))
    };

    let set = env.open_set();
    let indexer = env
        .start(set.clone(), Duration::from_secs(600), &held)
        .await;
    assert_eq!(indexer.watermarks(), marks);
    assert_eq!(set.held(), held.to_vec());
    assert_eq!(snapshot(&set, &files), before);
    assert_findable_exactly(&set, &files, &held);

    // It follows from there, and indexes only what is new.
    let i6 = files.iter().position(|f| f.partition() == 6).unwrap();
    let newer = SourceFile::new(i6, 1);
    let targets = env.publish(std::slice::from_ref(&newer)).await;
    wait_applied(&indexer, &targets).await;
    assert!(findable(&set, &newer));
    assert_eq!(indexer.files_indexed(), 1);
    indexer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_with_fewer_partitions_deletes_the_others_after_the_grace_period() {
    let env = Env::new();
    let files = project();
    let published = env.publish(&files).await;
    {
        let indexer = env
            .start(env.open_set(), Duration::from_secs(600), &[0, 6])
            .await;
        wait_applied(&indexer, &only(&published, &[0, 6])).await;
        indexer.shutdown().await;
    }
    assert!(env.partition_dir(6).exists());

    let set = env.open_set();
    let indexer = env
        .start(set.clone(), Duration::from_millis(200), &[0])
        .await;
    assert_eq!(set.held(), vec![0]);
    assert_findable_exactly(&set, &files, &[0]);
    wait_until("the copy of partition 6 is deleted", || {
        !env.partition_dir(6).exists()
    })
    .await;
    assert!(env.partition_dir(0).exists());
    indexer.shutdown().await;
}

#[test]
fn a_file_of_a_partition_not_held_is_refused() {
    let tmp = TempDir::new().unwrap();
    let set = PartitionSet::open_with(tmp.path(), P, [1]).unwrap();
    let file = (0..FILES)
        .map(|i| SourceFile::new(i, 0))
        .find(|f| f.partition() == 0)
        .unwrap();
    let err = set
        .apply_file(
            REPO,
            &file.path,
            file.content.as_bytes(),
            &ChunkerConfig::default(),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            aiex_node::error::NodeError::PartitionNotHeld { partition: 0 }
        ),
        "{err}"
    );
    assert!(set.partition_for(REPO, &file.path).is_err());

    set.add_partition(0).unwrap();
    assert_eq!(set.held(), vec![0, 1]);
    set.apply_file(
        REPO,
        &file.path,
        file.content.as_bytes(),
        &ChunkerConfig::default(),
    )
    .unwrap();
    set.commit_all().unwrap();
    assert!(findable(&set, &file));
    assert!(set.delete_partition_dir(0).is_err(), "held partitions stay");
    assert!(set.remove_partition(0).is_some());
    assert!(!findable(&set, &file));
    assert!(set.delete_partition_dir(0).unwrap());
    assert!(!Path::new(&tmp.path().join("p0000")).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_on_the_log_are_dead_lettered_and_counted_and_indexing_goes_on() {
    use aiex_node::bus::{Headers, Record};
    use aiex_proto::subjects::{DEAD_LETTER_QUEUE, headers};

    let env = Env::new();
    let files = project();
    let good = &files[0];
    let p = good.partition();
    let key = |path: &str| format!("{REPO}\u{0}{path}");
    let file_headers = |path: &str, version: Option<&str>| {
        let mut h = Headers::new();
        h.insert(headers::REPO.into(), REPO.into());
        h.insert(headers::PATH.into(), path.into());
        h.insert(headers::HASH.into(), "00".into());
        if let Some(v) = version {
            h.insert(headers::VERSION.into(), v.into());
        }
        h
    };
    let elixir = Bytes::from_static(b"defmodule Ok do\n  def ok, do: :ok\nend\n");
    let huge_path = (0..)
        .map(|i| format!("lib/huge_{i}.ex"))
        .find(|path| partition_of(REPO, path, P) == p)
        .unwrap();
    let misrouted = (0..)
        .map(|i| format!("lib/misrouted_{i}.ex"))
        .find(|path| partition_of(REPO, path, P) != p)
        .unwrap();
    let mut no_path = file_headers("lib/no_path.ex", None);
    no_path.remove(headers::PATH);
    let bad = vec![
        // Malformed: no path header.
        Record::put(p, key("lib/no_path.ex"), no_path, elixir.clone()),
        // A format this node does not read.
        Record::put(
            p,
            key("lib/future.ex"),
            file_headers("lib/future.ex", Some("9")),
            elixir.clone(),
        ),
        // Headers that do not match the key.
        Record::put(
            p,
            key("lib/elsewhere.ex"),
            file_headers("lib/other.ex", None),
            elixir.clone(),
        ),
        // Over the file size limit.
        Record::put(
            p,
            key(&huge_path),
            file_headers(&huge_path, Some("1")),
            Bytes::from(oversized()),
        ),
        // Published on a partition its path does not belong to.
        Record::put(
            p,
            key(&misrouted),
            file_headers(&misrouted, Some("1")),
            elixir.clone(),
        ),
    ];
    let bad_seqs = env.bus.publish(FILES_STREAM, bad).await.expect("publish");
    // A good file after them, and a good one without the version header (an old log).
    let published = env.publish(std::slice::from_ref(good)).await;
    let old_path = (0..)
        .map(|i| format!("lib/old_format_{i}.ex"))
        .find(|path| partition_of(REPO, path, P) == p)
        .unwrap();
    let old = Record::put(
        p,
        key(&old_path),
        file_headers(&old_path, None),
        elixir.clone(),
    );
    env.bus
        .publish(FILES_STREAM, vec![old])
        .await
        .expect("publish");

    // Every partition held: the misrouted file's own partition too, which it must not
    // be written to.
    let set = env.open_set();
    let indexer = env.start(set.clone(), WAIT, &range(0..P)).await;
    wait_applied(&indexer, &published).await;
    wait_until("the old-format file is indexed", || {
        !search(&set, "Ok.ok").is_empty()
    })
    .await;
    assert!(
        findable(&set, good),
        "the good file after the bad ones is indexed"
    );
    assert_eq!(indexer.dead_lettered(), 5);
    assert_eq!(indexer.write_failures(), 0);
    assert!(
        !search(&set, "Ok.ok")
            .iter()
            .any(|h| h.chunk.path == misrouted),
        "the misrouted file was indexed"
    );

    // Each bad message is on the dead-letter queue with its sequence and reason.
    let mut letters = BTreeMap::new();
    while let Some(job) = env
        .bus
        .take(
            DEAD_LETTER_QUEUE,
            Duration::from_secs(30),
            Duration::from_secs(1),
        )
        .await
        .expect("take a dead letter")
    {
        let v: serde_json::Value = serde_json::from_slice(&job.payload).unwrap();
        letters.insert(
            v["seq"].as_u64().unwrap(),
            v["reason"].as_str().unwrap().to_string(),
        );
        env.bus.ack(DEAD_LETTER_QUEUE, job.id).await.unwrap();
    }
    assert_eq!(
        letters.keys().copied().collect::<Vec<_>>(),
        bad_seqs,
        "{letters:?}"
    );
    let reasons: Vec<&String> = letters.values().collect();
    assert!(reasons[0].contains("Aiex-Path"), "{reasons:?}");
    assert!(reasons[1].contains("version \"9\""), "{reasons:?}");
    assert!(reasons[2].contains("is not the key of"), "{reasons:?}");
    assert!(reasons[3].contains("over the"), "{reasons:?}");
    assert!(
        reasons[4].contains(&format!(
            "belongs to partition {} of {P}",
            partition_of(REPO, &misrouted, P)
        )),
        "{reasons:?}"
    );
    indexer.shutdown().await;
}

/// A partition whose directory vanishes can neither write nor commit. Its follower must
/// not move past the messages it could not write, nor stop: it gives up what it applied
/// since its last commit and follows again from there after a back-off, so once the
/// directory is back every file published meanwhile is indexed, and the other
/// partitions went on meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_that_cannot_write_follows_again_from_its_last_commit_and_loses_nothing() {
    let env = Env::new();
    let files = project();
    let (set, indexer) = env.start_all().await;
    let published = env.publish(&files).await;
    wait_applied(&indexer, &published).await;
    assert_eq!(indexer.write_failures(), 0);

    let p = files[0].partition();
    let in_p: Vec<usize> = (0..files.len())
        .filter(|&i| files[i].partition() == p)
        .collect();
    assert!(in_p.len() >= 2, "partition {p} holds {in_p:?}");
    let dir = env.partition_dir(p);
    let away = env.tmp.path().join("away");
    std::fs::rename(&dir, &away).unwrap();
    let newer: Vec<SourceFile> = in_p.iter().map(|&i| SourceFile::new(i, 1)).collect();
    // With them, in the same batch, a message that cannot be indexed. When the page
    // applies (the open writer holds it in memory) its dead letter is sent, then the
    // commit fails and the page is applied again: the letter must not be sent twice.
    // (When the follower meets the failure on a write first, the letter waits for the
    // replay; the count must be 1 either way.)
    let huge_path = (0..)
        .map(|i| format!("lib/huge_{i}.ex"))
        .find(|path| partition_of(REPO, path, P) == p)
        .unwrap();
    let mut records: Vec<_> = newer.iter().map(SourceFile::record).collect();
    records.push(files::put(
        p,
        REPO,
        &huge_path,
        "00",
        0o644,
        Bytes::from(oversized()),
    ));
    let seqs = env.bus.publish(FILES_STREAM, records).await.unwrap();
    let targets = BTreeMap::from([(p, *seqs.iter().max().unwrap())]);
    // A file of another partition, published while p cannot write.
    let other = (0..files.len())
        .find(|&i| files[i].partition() != p)
        .unwrap();
    let other_newer = SourceFile::new(other, 1);
    let other_targets = env.publish(std::slice::from_ref(&other_newer)).await;
    wait_until("a write of the vanished partition fails", || {
        indexer.write_failures() >= 1
    })
    .await;
    wait_applied(&indexer, &other_targets).await;
    assert!(findable(&set, &other_newer));
    assert!(
        indexer.watermarks()[p as usize] < targets[&p],
        "partition {p} moved past messages it could not write: {:?}",
        indexer.watermarks()
    );

    std::fs::rename(&away, &dir).unwrap();
    wait_applied(&indexer, &targets).await;
    for (new, &i) in newer.iter().zip(&in_p) {
        assert!(findable(&set, new), "{} (new version) is missing", new.path);
        assert!(
            !findable(&set, &files[i]),
            "{} (old version) is still found",
            files[i].path
        );
    }
    assert_eq!(
        indexer.dead_lettered(),
        1,
        "the bad message was dead-lettered again"
    );
    indexer.shutdown().await;

    // What was retried is committed: a restart finds it without replaying.
    let (set, indexer) = env.start_all().await;
    for new in &newer {
        assert!(findable(&set, new), "{} lost at restart", new.path);
    }
    indexer.shutdown().await;
}

/// A re-index applies every file of the repository again from the log (even unchanged
/// ones) and ends with exactly the log's files: deleted ones stay deleted; re-indexing a
/// repository nobody uploaded changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reindex_applies_every_file_again_and_keeps_exactly_the_logs_files() {
    let env = Env::new();
    let files = project();
    let (set, indexer) = env.start_all().await;
    let mut targets = env.publish(&files).await;
    let removed = &files[3];
    for (p, seq) in env.delete(removed).await {
        targets.insert(p, seq);
    }
    // A version over the size limit: dead-lettered once, by the follower.
    let mut huge = files[9].clone();
    huge.path = "lib/my_app/huge.ex".into();
    huge.content.push_str(&oversized());
    for (p, seq) in env.publish(std::slice::from_ref(&huge)).await {
        let e = targets.entry(p).or_insert(0);
        *e = (*e).max(seq);
    }
    wait_applied(&indexer, &targets).await;
    assert_eq!(indexer.dead_lettered(), 1);
    let before = snapshot(&set, &files);
    let indexed_before = indexer.files_indexed();

    let again = indexer.reindex(REPO).await.expect("reindex");
    assert_eq!(
        again as usize,
        files.len() - 1,
        "every file of the log once"
    );
    assert_eq!(indexer.files_indexed(), indexed_before + again);
    assert_eq!(
        indexer.dead_lettered(),
        1,
        "the re-index dead-lettered again"
    );
    assert_eq!(snapshot(&set, &files), before);
    assert!(!findable(&set, removed));
    for f in files.iter().filter(|f| f.path != removed.path) {
        assert!(findable(&set, f), "{} lost by the re-index", f.path);
    }
    assert_eq!(indexer.reindex("no-such-repo").await.expect("reindex"), 0);
    assert_eq!(snapshot(&set, &files), before);

    // The followers go on after it: a new version is applied.
    let newer = SourceFile::new(5, 1);
    let targets = env.publish(std::slice::from_ref(&newer)).await;
    wait_applied(&indexer, &targets).await;
    assert!(findable(&set, &newer));
    indexer.shutdown().await;
}

/// A file an earlier configuration left out (over its size limit, dead-lettered) is
/// indexed by a re-index under a configuration that takes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reindex_indexes_files_an_earlier_limit_left_out() {
    let env = Env::new();
    let files = project();
    let all = range(0..P);
    let big = &files[7];
    let small_limit = ChunkerConfig {
        max_file_bytes: big.content.len() as u64 - 1,
        ..ChunkerConfig::default()
    };
    {
        let set = env.open_set();
        let indexer = env
            .start_chunking(set.clone(), Duration::from_secs(600), &all, small_limit)
            .await;
        let targets = env.publish(&files).await;
        wait_applied(&indexer, &targets).await;
        assert!(!findable(&set, big), "over the limit, yet indexed");
        assert!(indexer.dead_lettered() >= 1);
        indexer.shutdown().await;
    }
    let (set, indexer) = env.start_all().await;
    assert!(!findable(&set, big));
    indexer.reindex(REPO).await.expect("reindex");
    assert!(findable(&set, big), "the re-index left the file out");
    for f in &files {
        assert!(findable(&set, f), "{} missing after the re-index", f.path);
    }
    indexer.shutdown().await;
}

/// A new version over the size limit is dead-lettered, and the older version it replaces
/// is not left searchable in its place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_over_the_limit_removes_the_older_one() {
    let env = Env::new();
    let files = project();
    let (set, indexer) = env.start_all().await;
    let old = &files[2];
    let targets = env.publish(std::slice::from_ref(old)).await;
    wait_applied(&indexer, &targets).await;
    assert!(findable(&set, old));

    let mut huge = old.clone();
    huge.content = format!("{}\n{}", old.content, oversized());
    let targets = env.publish(std::slice::from_ref(&huge)).await;
    wait_applied(&indexer, &targets).await;
    assert_eq!(indexer.dead_lettered(), 1);
    assert!(!findable(&set, old), "the older version is still found");
    indexer.shutdown().await;
}
