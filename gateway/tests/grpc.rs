//! The gateway at the gRPC level: each test starts an embedded server in a temporary
//! directory on an ephemeral port and talks to it with the generated clients. Every
//! refusal is checked for its exact code and for a message naming the problem, and the
//! server is checked to still answer afterwards.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aiex_gateway::embedded::{EmbeddedConfig, EmbeddedServer};
use aiex_gateway::service::GatewayState;
use aiex_gateway::{GatewayConfig, GatewayError, Limits};
use aiex_node::chunk::ChunkerConfig;
use aiex_proto::v1 as pb;
use pb::repositories_client::RepositoriesClient;
use pb::search_client::SearchClient;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// How long any condition may take to come true (indexing in a debug build on a busy
/// machine); tests wait on predicates, never on the clock.
const PATIENCE: Duration = Duration::from_secs(600);

// ---------------------------------------------------------------------------------------
// A server per test.

struct TestServer {
    state: Arc<GatewayState>,
    channel: Channel,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), GatewayError>>>,
}

/// A configuration with data under `dir`, listening on an ephemeral port.
fn config(dir: &Path) -> EmbeddedConfig {
    EmbeddedConfig {
        data_dir: dir.join("data"),
        partitions: 2,
        index_threads: 1,
        chunker: ChunkerConfig::default(),
        gateway: GatewayConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..GatewayConfig::default()
        },
        llm: None,
        assist: Default::default(),
        embed_model: None,
    }
}

fn with_limits(dir: &Path, limits: Limits) -> EmbeddedConfig {
    let mut c = config(dir);
    c.chunker.max_file_bytes = limits.max_file_bytes;
    c.gateway.limits = limits;
    c
}

impl TestServer {
    async fn start(config: EmbeddedConfig) -> TestServer {
        // A server stopped a moment ago in this process may still be letting go of the
        // data directory: the tasks its last requests started hold the bus until they
        // end. Its lock is released then; any other error is the test's failure.
        let started = std::time::Instant::now();
        let server = loop {
            match EmbeddedServer::start(config.clone()).await {
                Ok(server) => break server,
                Err(e) if e.to_string().contains("is locked") && started.elapsed() < PATIENCE => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("the embedded server starts: {e:?}"),
            }
        };
        let addr = server.local_addr();
        let state = server.state.clone();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = rx.await;
        }));
        let channel = Channel::from_shared(format!("http://{addr}"))
            .expect("a valid URI")
            .connect_lazy();
        TestServer {
            state,
            channel,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    fn repos(&self) -> RepositoriesClient<Channel> {
        RepositoriesClient::new(self.channel.clone())
            .max_encoding_message_size(usize::MAX)
            .max_decoding_message_size(64 << 20)
    }

    fn search(&self) -> SearchClient<Channel> {
        SearchClient::new(self.channel.clone()).max_decoding_message_size(64 << 20)
    }

    fn health(&self) -> HealthClient<Channel> {
        HealthClient::new(self.channel.clone())
    }

    /// Stops the server and waits until it has committed and released the data dir.
    async fn stop(mut self) {
        let _ = self.shutdown.take().expect("running").send(());
        let task = self.task.take().expect("running");
        tokio::time::timeout(PATIENCE, task)
            .await
            .expect("the server stops")
            .expect("the server task does not panic")
            .expect("the server stops cleanly");
    }

    /// gRPC health answers SERVING, and a search and a List are served.
    async fn assert_healthy(&self) {
        for service in ["", "aiex.v1.Search", "aiex.v1.Repositories"] {
            assert_eq!(
                self.health_of(service).await,
                ServingStatus::Serving,
                "{service}"
            );
        }
        let found = self
            .search()
            .search(search_request("anything"))
            .await
            .expect("a search is served");
        assert!(found.into_inner().missing_partitions.is_empty());
        self.repos()
            .list(pb::ListRepositoriesRequest {})
            .await
            .expect("List is served");
    }

    async fn health_of(&self, service: &str) -> ServingStatus {
        let response = self
            .health()
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .expect("the health check answers");
        ServingStatus::try_from(response.into_inner().status).expect("a known status")
    }

    /// Whether an upload of `repo` is running on the server (its session has begun).
    fn upload_running(&self, repo: &str) -> bool {
        self.state
            .registry
            .with(|r| r.get(repo).is_some_and(|e| e.upload.is_some()))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

// ---------------------------------------------------------------------------------------
// Requests and waiting.

fn file(repo: &str, path: impl Into<Vec<u8>>, content: impl Into<Vec<u8>>) -> pb::UploadRequest {
    pb::UploadRequest {
        repository: repo.into(),
        item: Some(pb::upload_request::Item::File(pb::FileUpload {
            path: path.into(),
            content: content.into(),
            mode: 0o644,
            skipped: false,
        })),
        ..Default::default()
    }
}

fn commit(delete_missing: bool) -> pb::UploadRequest {
    pb::UploadRequest {
        repository: String::new(),
        item: Some(pb::upload_request::Item::Commit(pb::UploadCommit {
            delete_missing,
        })),
        ..Default::default()
    }
}

/// An Elixir module `name` defining `fun/1`.
fn module(name: &str, fun: &str) -> String {
    format!(
        "defmodule {name} do\n  @doc \"Handles {fun}.\"\n  def {fun}(value) do\n    value\n    |> Enum.map(&(&1 * 2))\n    |> Enum.sum()\n  end\nend\n"
    )
}

async fn upload(
    client: &mut RepositoriesClient<Channel>,
    messages: Vec<pb::UploadRequest>,
) -> Result<pb::RepositoryStatus, Status> {
    client
        .upload(tokio_stream::iter(messages))
        .await
        .map(|r| r.into_inner())
}

/// Uploads `files` as `repo` (a full snapshot) and waits until they are all indexed.
async fn upload_ready(
    server: &TestServer,
    repo: &str,
    files: &[(&str, String)],
) -> pb::RepositoryStatus {
    let mut messages: Vec<_> = files
        .iter()
        .map(|(path, content)| file(repo, *path, content.clone()))
        .collect();
    messages.push(commit(true));
    upload(&mut server.repos(), messages)
        .await
        .expect("the upload is accepted");
    wait_ready(server, repo, files.len() as u64).await
}

fn search_request(query: &str) -> pb::SearchRequest {
    pb::SearchRequest {
        query: query.into(),
        filters: None,
        limit: 20,
    }
}

async fn search(server: &TestServer, query: &str) -> Vec<pb::SearchHit> {
    server
        .search()
        .search(search_request(query))
        .await
        .expect("the search is served")
        .into_inner()
        .hits
}

/// Polls `probe` until it returns `Some`, for at most [`PATIENCE`].
async fn wait_for<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn get(server: &TestServer, repo: &str) -> Result<pb::RepositoryStatus, Status> {
    server
        .repos()
        .get(pb::GetRepositoryRequest {
            repository: repo.into(),
        })
        .await
        .map(|r| r.into_inner())
}

/// Waits until `repo` is READY with `files` files indexed.
async fn wait_ready(server: &TestServer, repo: &str, files: u64) -> pb::RepositoryStatus {
    wait_for(
        &format!("`{repo}` READY with {files} files indexed"),
        || async {
            let status = get(server, repo).await.expect("the repository is known");
            (status.state == pb::RepositoryState::Ready as i32 && status.files_indexed == files)
                .then_some(status)
        },
    )
    .await
}

async fn list_names(server: &TestServer) -> Vec<String> {
    server
        .repos()
        .list(pb::ListRepositoriesRequest {})
        .await
        .expect("List is served")
        .into_inner()
        .repositories
        .into_iter()
        .map(|r| r.repository)
        .collect()
}

/// Asserts the call failed with `code` and a message containing every one of `words`.
#[track_caller]
fn assert_refused<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, words: &[&str]) {
    let status = result.expect_err("the request is refused");
    assert_eq!(status.code(), code, "{status:?}");
    for word in words {
        assert!(
            status.message().contains(word),
            "the message `{}` should mention `{word}`",
            status.message()
        );
    }
}

// ---------------------------------------------------------------------------------------
// Empty and invalid requests.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_and_invalid_requests_are_invalid_arguments_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    let mut repos = server.repos();
    let mut search_client = server.search();

    // An upload stream with no message at all.
    assert_refused(
        upload(&mut repos, Vec::new()).await,
        Code::InvalidArgument,
        &["repository", "empty"],
    );
    // A first message that does not name the repository.
    assert_refused(
        upload(&mut repos, vec![file("", "lib/a.ex", "x"), commit(true)]).await,
        Code::InvalidArgument,
        &["repository", "first"],
    );
    // A message with neither a file nor the commit.
    let bare = pb::UploadRequest {
        repository: "shop".into(),
        item: None,
        ..Default::default()
    };
    assert_refused(
        upload(&mut repos, vec![bare]).await,
        Code::InvalidArgument,
        &["item"],
    );
    // Two repositories in one upload.
    assert_refused(
        upload(
            &mut repos,
            vec![
                file("shop", "lib/a.ex", "x"),
                file("blog", "lib/b.ex", "x"),
                commit(true),
            ],
        )
        .await,
        Code::InvalidArgument,
        &["repository", "shop", "blog"],
    );
    // Invalid repository names in an upload.
    for name in ["../x", "a b", ".hidden"] {
        assert_refused(
            upload(&mut repos, vec![file(name, "lib/a.ex", "x"), commit(true)]).await,
            Code::InvalidArgument,
            &["repository", name],
        );
    }
    server.assert_healthy().await;

    // Empty and invalid repository names everywhere else.
    for name in ["", "../x", "a b"] {
        let request = || pb::GetRepositoryRequest {
            repository: name.into(),
        };
        assert_refused(
            repos.get(request()).await,
            Code::InvalidArgument,
            &["repository"],
        );
        assert_refused(
            repos
                .remove(pb::RemoveRepositoryRequest {
                    repository: name.into(),
                })
                .await,
            Code::InvalidArgument,
            &["repository"],
        );
        assert_refused(
            repos
                .reindex(pb::ReindexRequest {
                    repository: name.into(),
                })
                .await,
            Code::InvalidArgument,
            &["repository"],
        );
    }
    server.assert_healthy().await;

    // Searches.
    for query in ["", "   "] {
        assert_refused(
            search_client.search(search_request(query)).await,
            Code::InvalidArgument,
            &["query"],
        );
    }
    let unknown_kind = pb::SearchRequest {
        query: "stock".into(),
        filters: Some(pb::SearchFilters {
            kinds: vec!["function".into(), "bogus".into()],
            ..Default::default()
        }),
        limit: 10,
    };
    assert_refused(
        search_client.search(unknown_kind).await,
        Code::InvalidArgument,
        &["filters.kinds", "bogus"],
    );
    let too_many = pb::SearchRequest {
        limit: 1001,
        ..search_request("stock")
    };
    assert_refused(
        search_client.search(too_many).await,
        Code::InvalidArgument,
        &["limit", "1000"],
    );
    let at_most = pb::SearchRequest {
        limit: 1000,
        ..search_request("stock")
    };
    search_client
        .search(at_most)
        .await
        .expect("a limit of 1000 is accepted");
    server.assert_healthy().await;

    // Symbol look-ups.
    for symbol in ["", "  "] {
        let request = || pb::SymbolRequest {
            symbol: symbol.into(),
            repositories: Vec::new(),
        };
        assert_refused(
            search_client.definition(request()).await,
            Code::InvalidArgument,
            &["symbol"],
        );
        assert_refused(
            search_client.callers(request()).await,
            Code::InvalidArgument,
            &["symbol"],
        );
        assert_refused(
            search_client.callees(request()).await,
            Code::InvalidArgument,
            &["symbol"],
        );
    }
    server.assert_healthy().await;
    // Nothing was registered by the refused uploads.
    assert!(list_names(&server).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_without_its_commit_is_refused_and_leaves_the_repository_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    let mut repos = server.repos();

    assert_refused(
        upload(
            &mut repos,
            vec![file(
                "shop",
                "lib/stock.ex",
                module("Shop.Stock", "reserve"),
            )],
        )
        .await,
        Code::InvalidArgument,
        &["commit"],
    );
    server.assert_healthy().await;
    // The files sent were kept, but the repository is incomplete until an upload commits.
    let status = wait_for("`shop` INCOMPLETE", || async {
        let s = get(&server, "shop").await.expect("the repository is known");
        (s.state == pb::RepositoryState::Incomplete as i32).then_some(s)
    })
    .await;
    assert_eq!(status.files_indexed, 1);

    // The mark of the interrupted upload is gone: the next upload works.
    upload(
        &mut repos,
        vec![
            file("shop", "lib/stock.ex", module("Shop.Stock", "reserve")),
            commit(true),
        ],
    )
    .await
    .expect("the next upload is accepted");
    let status = wait_ready(&server, "shop", 1).await;
    assert_eq!(status.files_unchanged, 1);
    server.assert_healthy().await;
}

/// Get, Remove and Reindex of `name`, and a search or symbol look-up restricted to it,
/// all answer NOT_FOUND naming it.
async fn assert_unknown(server: &TestServer, name: &str) {
    let mut repos = server.repos();
    assert_refused(get(server, name).await, Code::NotFound, &[name]);
    let mut request = search_request("stock");
    request.filters = Some(pb::SearchFilters {
        repositories: vec![name.into()],
        ..Default::default()
    });
    assert_refused(
        server.search().search(request).await,
        Code::NotFound,
        &[name],
    );
    let symbol = pb::SymbolRequest {
        symbol: "Inventory.Stock.reserve/4".into(),
        repositories: vec![name.into()],
    };
    assert_refused(
        server.search().callers(symbol.clone()).await,
        Code::NotFound,
        &[name],
    );
    assert_refused(
        server.search().callees(symbol.clone()).await,
        Code::NotFound,
        &[name],
    );
    assert_refused(
        server.search().definition(symbol).await,
        Code::NotFound,
        &[name],
    );
    // What an undefined symbol calls is unknown, not nothing.
    let undefined = format!("{name}.Nothing.gone/1");
    assert_refused(
        server
            .search()
            .callees(pb::SymbolRequest {
                symbol: undefined.clone(),
                repositories: vec![],
            })
            .await,
        Code::NotFound,
        &[&undefined],
    );
    // A map focused on nothing indexed is not the unfocused map.
    assert_refused(
        server
            .search()
            .repo_map(pb::RepoMapRequest {
                repositories: vec![],
                token_budget: 100,
                focus: vec![format!("{name}.Nothing/1")],
            })
            .await,
        Code::NotFound,
        &[name],
    );
    assert_refused(
        repos
            .remove(pb::RemoveRepositoryRequest {
                repository: name.into(),
            })
            .await,
        Code::NotFound,
        &[name],
    );
    assert_refused(
        repos
            .reindex(pb::ReindexRequest {
                repository: name.into(),
            })
            .await,
        Code::NotFound,
        &[name],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_repositories_are_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    let mut repos = server.repos();

    assert_unknown(&server, "ghost").await;
    server.assert_healthy().await;

    // A repository whose only upload was refused is not known either.
    assert_refused(
        upload(
            &mut repos,
            vec![file("ghost", "../x.ex", "x"), commit(true)],
        )
        .await,
        Code::InvalidArgument,
        &["path"],
    );
    assert_unknown(&server, "ghost").await;
    assert!(list_names(&server).await.is_empty());
    server.assert_healthy().await;
}

/// A search under a path no indexed file is under is NOT_FOUND naming the path, not an
/// empty answer; under an indexed path, a query that matches nothing there is empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_under_a_path_nothing_is_indexed_under_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    upload_ready(
        &server,
        "shop",
        &[
            ("lib/shop/stock.ex", module("Shop.Stock", "reserve")),
            ("lib/shop/cart.ex", module("Shop.Cart", "checkout")),
        ],
    )
    .await;
    upload_ready(
        &server,
        "billing",
        &[("src/invoice.ex", module("Billing.Invoice", "issue"))],
    )
    .await;
    let under = |path: &str, repos: &[&str], query: &str| {
        let mut request = search_request(query);
        request.filters = Some(pb::SearchFilters {
            path_prefix: path.into(),
            repositories: repos.iter().map(|r| r.to_string()).collect(),
            ..Default::default()
        });
        let mut client = server.search();
        async move { client.search(request).await.map(|r| r.into_inner()) }
    };
    // Found under an indexed path, as file prefix, directory or `repo/path`.
    for path in ["lib/shop/", "lib/shop/sto", "shop/lib/shop", "src/"] {
        let found = under(path, &[], "reserve issue").await.expect("served");
        assert!(!found.hits.is_empty(), "{path}: {found:?}");
        assert_eq!(found.under_path, None, "{path}: {found:?}");
    }
    // Nothing matches the query under an indexed path: an empty answer, counting what is
    // under it.
    let nothing = under("lib/shop/cart", &[], "reserve")
        .await
        .expect("served");
    assert!(nothing.hits.is_empty(), "{nothing:?}");
    assert!(nothing.under_path.is_some_and(|n| n > 0), "{nothing:?}");
    // No indexed file under the path (in the repository named): NOT_FOUND naming it.
    assert_refused(
        under("lib/shopping", &[], "reserve").await,
        Code::NotFound,
        &["lib/shopping", "nothing indexed is under it"],
    );
    assert_refused(
        under("src/", &["shop"], "issue").await,
        Code::NotFound,
        &["src/", "nothing indexed of shop is under it"],
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_outside_the_repository_are_invalid_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    let mut repos = server.repos();

    let bad: [&[u8]; 9] = [
        b"\xff\xfe.ex",
        b"../x.ex",
        b"lib/../../x.ex",
        b"/etc/passwd",
        b"lib//a.ex",
        b"lib\\a.ex",
        b"C:\\x.ex",
        b"./a.ex",
        b"",
    ];
    for path in bad {
        // As the first file, and after a good one.
        let alone = vec![file("shop", path, "x = 1\n"), commit(true)];
        let after_good = vec![
            file("shop", "lib/ok.ex", module("Shop.Ok", "ok")),
            file("shop", path, "x = 1\n"),
            commit(true),
        ];
        for messages in [alone, after_good] {
            let result = upload(&mut repos, messages).await;
            assert_refused(result, Code::InvalidArgument, &["path"]);
        }
        // A skipped file's path is checked too.
        let skipped = pb::UploadRequest {
            repository: "shop".into(),
            item: Some(pb::upload_request::Item::File(pb::FileUpload {
                path: path.to_vec(),
                skipped: true,
                ..Default::default()
            })),
            ..Default::default()
        };
        assert_refused(
            upload(&mut repos, vec![skipped, commit(true)]).await,
            Code::InvalidArgument,
            &["path"],
        );
        server.assert_healthy().await;
    }
    // Nothing of the refused uploads was committed, and the repository is not locked.
    assert_refused(get(&server, "shop").await, Code::NotFound, &["shop"]);
    upload_ready(&server, "shop", &[("lib/ok.ex", module("Shop.Ok", "ok"))]).await;
    server.assert_healthy().await;
}

// ---------------------------------------------------------------------------------------
// Oversized requests.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_max_request_bytes_is_resource_exhausted() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_request_bytes: 1 << 20,
        ..Limits::default()
    };
    let server = TestServer::start(with_limits(dir.path(), limits)).await;
    let mut repos = server.repos();

    let big = vec![b'a'; 2 << 20];
    assert_refused(
        upload(
            &mut repos,
            vec![
                file("shop", "lib/a.ex", module("Shop.A", "a")),
                file("shop", "lib/big.ex", big.clone()),
                commit(true),
            ],
        )
        .await,
        Code::ResourceExhausted,
        &["max_request_bytes"],
    );
    server.assert_healthy().await;
    // A unary request over the limit too.
    let huge_query = pb::SearchRequest {
        query: "x ".repeat(1 << 20),
        ..search_request("")
    };
    assert_refused(
        server.search().search(huge_query).await,
        Code::ResourceExhausted,
        &["too large", "max_request_bytes"],
    );
    server.assert_healthy().await;
    // The refused upload released the repository.
    upload_ready(&server, "shop", &[("lib/a.ex", module("Shop.A", "a"))]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_over_max_upload_bytes_is_resource_exhausted() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_upload_bytes: 10_000,
        ..Limits::default()
    };
    let server = TestServer::start(with_limits(dir.path(), limits)).await;
    let mut repos = server.repos();

    let messages = (0..4)
        .map(|i| file("shop", format!("lib/f{i}.ex"), vec![b'#'; 4000]))
        .chain([commit(true)])
        .collect();
    assert_refused(
        upload(&mut repos, messages).await,
        Code::ResourceExhausted,
        &["max_upload_bytes", "10000"],
    );
    server.assert_healthy().await;
    assert_refused(get(&server, "shop").await, Code::NotFound, &["shop"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_over_max_upload_files_is_resource_exhausted() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_upload_files: 3,
        ..Limits::default()
    };
    let server = TestServer::start(with_limits(dir.path(), limits)).await;
    // Files the client skipped count too.
    let skipped = pb::UploadRequest {
        repository: "shop".into(),
        item: Some(pb::upload_request::Item::File(pb::FileUpload {
            path: b"lib/huge.ex".to_vec(),
            skipped: true,
            ..Default::default()
        })),
        ..Default::default()
    };
    let messages = (0..3)
        .map(|i| file("shop", format!("lib/f{i}.ex"), module("Shop.F", "f")))
        .chain([skipped, commit(true)])
        .collect();
    assert_refused(
        upload(&mut server.repos(), messages).await,
        Code::ResourceExhausted,
        &["max_upload_files"],
    );
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_over_max_file_bytes_is_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_file_bytes: 1000,
        ..Limits::default()
    };
    let server = TestServer::start(with_limits(dir.path(), limits)).await;

    let mut large = module("Shop.Large", "large_function_here");
    while large.len() <= 5000 {
        large.push_str("# padding padding padding padding padding\n");
    }
    let status = upload(
        &mut server.repos(),
        vec![
            file("shop", "lib/small.ex", module("Shop.Small", "small")),
            file("shop", "lib/large.ex", large),
            commit(true),
        ],
    )
    .await
    .expect("a file over max_file_bytes is not an error");
    assert_eq!(status.files_seen, 2);
    assert_eq!(status.files_skipped, 1);
    let status = wait_ready(&server, "shop", 1).await;
    assert_eq!(status.files_skipped, 1);
    let hits = search(&server, "large_function_here").await;
    assert!(hits.iter().all(|h| h.path != "lib/large.ex"), "{hits:?}");
    server.assert_healthy().await;
}

/// Files the gateway sends but the node will not index (a credential file, a minified
/// script) are counted as skipped, so that seen = indexed + unchanged + skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_the_node_will_not_index_are_counted_as_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(with_limits(dir.path(), Limits::default())).await;
    let minified = format!("var a={};\n", "1+".repeat(5000) + "1");
    let key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";
    let status = upload(
        &mut server.repos(),
        vec![
            file("shop", "lib/small.ex", module("Shop.Small", "small")),
            file("shop", "priv/cert/selfsigned_key.pem", key.to_string()),
            file("shop", "priv/static/app.js", minified.clone()),
            commit(true),
        ],
    )
    .await
    .expect("the upload is accepted");
    assert_eq!(status.files_seen, 3);
    let status = wait_for("both skips counted", || async {
        let status = get(&server, "shop").await.expect("the repository is known");
        (status.state == pb::RepositoryState::Ready as i32 && status.files_skipped == 2)
            .then_some(status)
    })
    .await;
    assert_eq!(
        (
            status.files_seen,
            status.files_indexed,
            status.files_skipped
        ),
        (3, 1, 2),
        "{status:?}"
    );
    let hits = search(&server, "BEGIN PRIVATE KEY").await;
    assert!(hits.is_empty(), "{hits:?}");
    server.assert_healthy().await;

    // The index keeps what it skipped: the same upload again counts them once more, not
    // twice (nor as unchanged: seen = unchanged + skipped), and so does a restarted
    // server.
    let again = vec![
        file("shop", "lib/small.ex", module("Shop.Small", "small")),
        file("shop", "priv/cert/selfsigned_key.pem", key.to_string()),
        file("shop", "priv/static/app.js", minified.clone()),
        commit(true),
    ];
    upload(&mut server.repos(), again)
        .await
        .expect("the upload is accepted");
    let status = wait_ready(&server, "shop", 1).await;
    assert_eq!(
        (
            status.files_seen,
            status.files_unchanged,
            status.files_indexed,
            status.files_skipped
        ),
        (3, 1, 1, 2),
        "{status:?}"
    );
    server.stop().await;
    let server = TestServer::start(with_limits(dir.path(), Limits::default())).await;
    let status = wait_ready(&server, "shop", 1).await;
    assert_eq!(
        (status.files_indexed, status.files_skipped),
        (1, 2),
        "after a restart: {status:?}"
    );
    // The minified file changed into code: indexed, no longer skipped.
    upload(
        &mut server.repos(),
        vec![
            file("shop", "priv/static/app.js", "var a = 1;\n".to_string()),
            commit(false),
        ],
    )
    .await
    .expect("the upload is accepted");
    let status = wait_for("the file indexed", || async {
        let status = get(&server, "shop").await.expect("the repository is known");
        (status.state == pb::RepositoryState::Ready as i32 && status.files_indexed == 2)
            .then_some(status)
    })
    .await;
    assert_eq!(status.files_skipped, 1, "{status:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skipped_file_replaces_its_indexed_version_even_without_delete_missing() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_file_bytes: 1000,
        ..Limits::default()
    };
    let server = TestServer::start(with_limits(dir.path(), limits)).await;
    upload_ready(
        &server,
        "shop",
        &[
            ("lib/a.ex", module("Shop.A", "alpha_function")),
            ("lib/b.ex", module("Shop.B", "beta_function")),
            ("lib/c.ex", module("Shop.C", "gamma_function")),
        ],
    )
    .await;

    // b is skipped by the client, c grew over max_file_bytes: neither old version stays.
    let mut grown = module("Shop.C", "gamma_function");
    while grown.len() <= 5000 {
        grown.push_str("# padding padding padding padding padding\n");
    }
    let skipped_b = pb::UploadRequest {
        repository: "shop".into(),
        item: Some(pb::upload_request::Item::File(pb::FileUpload {
            path: b"lib/b.ex".to_vec(),
            skipped: true,
            ..Default::default()
        })),
        ..Default::default()
    };
    let status = upload(
        &mut server.repos(),
        vec![
            file("shop", "lib/a.ex", module("Shop.A", "alpha_function")),
            skipped_b,
            file("shop", "lib/c.ex", grown),
            commit(false),
        ],
    )
    .await
    .expect("the upload is accepted");
    assert_eq!(status.files_seen, 3);
    assert_eq!(status.files_skipped, 2);
    assert_eq!(status.files_unchanged, 1);
    // Both indexed versions were removed: said as deleted, though the files are there.
    assert_eq!(status.files_deleted, 2);
    let status = wait_ready(&server, "shop", 1).await;
    assert_eq!(status.files_deleted, 2);
    for (query, path) in [
        ("beta_function", "lib/b.ex"),
        ("gamma_function", "lib/c.ex"),
    ] {
        let hits = search(&server, query).await;
        assert!(hits.iter().all(|h| h.path != path), "{hits:?}");
    }
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mb_file_with_default_limits_is_resource_exhausted() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;

    // One 100 MB message: the server refuses it from its length prefix, before reading it.
    let huge = vec![b'x'; 100 << 20];
    let result = tokio::time::timeout(
        PATIENCE,
        upload(
            &mut server.repos(),
            vec![file("shop", "lib/huge.ex", huge), commit(true)],
        ),
    )
    .await
    .expect("the refusal does not wait for the whole message");
    assert_refused(
        result,
        Code::ResourceExhausted,
        &["max_request_bytes", "16777216"],
    );
    server.assert_healthy().await;
    assert_refused(get(&server, "shop").await, Code::NotFound, &["shop"]);
}

// ---------------------------------------------------------------------------------------
// AddPath.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_path_without_roots_is_a_failed_precondition() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    assert_refused(
        server
            .repos()
            .add_path(pb::AddPathRequest {
                repository: "shop".into(),
                path: dir.path().display().to_string(),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
        &["allow-root"],
    );
    server.assert_healthy().await;
}

fn write(path: &Path, content: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_path_is_confined_to_the_allowed_roots() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let root: PathBuf = dir.path().join("root");
    let project = root.join("shop");
    write(
        &project.join("lib/stock.ex"),
        &module("Shop.Stock", "reserve_stock"),
    );
    write(
        &project.join("lib/orders.ex"),
        &module("Shop.Orders", "place_order"),
    );
    write(
        &outside.path().join("secret.ex"),
        &module("Secret.Keys", "leak_the_secret"),
    );
    std::os::unix::fs::symlink(outside.path(), root.join("escape")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.ex"),
        project.join("lib/secret.ex"),
    )
    .unwrap();

    let mut c = config(dir.path());
    c.gateway.allowed_roots = vec![root.clone()];
    let server = TestServer::start(c).await;
    let mut repos = server.repos();
    let add = |path: String| pb::AddPathRequest {
        repository: "shop".into(),
        path,
        ..Default::default()
    };

    for path in [
        dir.path().display().to_string(),
        format!("{}/..", root.display()),
        "/etc".to_string(),
        outside.path().display().to_string(),
        root.join("escape").display().to_string(),
    ] {
        assert_refused(
            repos.add_path(add(path)).await,
            Code::InvalidArgument,
            &["path", "outside the allowed roots"],
        );
    }
    for path in [
        String::new(),
        root.join("missing").display().to_string(),
        project.join("lib/stock.ex").display().to_string(),
    ] {
        assert_refused(
            repos.add_path(add(path)).await,
            Code::InvalidArgument,
            &["path"],
        );
    }
    assert_refused(
        repos
            .add_path(pb::AddPathRequest {
                repository: "a b".into(),
                path: project.display().to_string(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        &["repository"],
    );
    server.assert_healthy().await;
    assert_refused(get(&server, "shop").await, Code::NotFound, &["shop"]);

    // A directory inside the root is indexed; the symlinked file pointing out is not read.
    let status = repos
        .add_path(add(project.display().to_string()))
        .await
        .expect("a path inside the root is indexed")
        .into_inner();
    assert_eq!(status.repository, "shop");
    assert_eq!(
        (status.files_seen, status.files_skipped),
        (2, 1),
        "the symlinked file counts as skipped: {status:?}"
    );
    wait_ready(&server, "shop", 2).await;
    let hits = search(&server, "reserve_stock").await;
    assert!(
        hits.iter()
            .any(|h| h.repository == "shop" && h.path == "lib/stock.ex"),
        "{hits:?}"
    );
    let hits = search(&server, "leak_the_secret").await;
    assert!(hits.iter().all(|h| h.path != "lib/secret.ex"), "{hits:?}");
    server.assert_healthy().await;
}

// ---------------------------------------------------------------------------------------
// Volume and concurrency.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_tiny_files_in_one_upload_are_all_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    const FILES: u64 = 10_000;

    let messages = (0..FILES)
        .map(|i| {
            file(
                "many",
                format!("lib/m{}/m{i}.ex", i % 100),
                format!("defmodule M{i} do\n  def f{i}(x), do: x\nend\n"),
            )
        })
        .chain([commit(true)])
        .collect();
    let status = upload(&mut server.repos(), messages)
        .await
        .expect("the upload is accepted");
    assert_eq!(status.files_seen, FILES);
    assert_eq!(status.files_skipped, 0);
    let status = wait_ready(&server, "many", FILES).await;
    assert_eq!(status.files_failed, 0);
    let hits = search(&server, "f9999").await;
    assert!(
        hits.iter().any(|h| h.path == "lib/m99/m9999.ex"),
        "{hits:?}"
    );
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_upload_of_the_same_repository_is_refused_while_one_runs() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;

    // The first upload sends a file and holds its stream open.
    let (tx, rx) = mpsc::channel(4);
    let mut first_client = server.repos();
    let first = tokio::spawn(async move { first_client.upload(ReceiverStream::new(rx)).await });
    tx.send(file("shop", "lib/a.ex", module("Shop.A", "a")))
        .await
        .unwrap();
    let running = wait_for("the first upload to run", || async {
        let s = get(&server, "shop").await.ok()?;
        (s.state == pb::RepositoryState::Indexing as i32).then_some(s)
    })
    .await;
    assert_eq!(running.repository, "shop");

    assert_refused(
        upload(
            &mut server.repos(),
            vec![
                file("shop", "lib/b.ex", module("Shop.B", "b")),
                commit(true),
            ],
        )
        .await,
        Code::FailedPrecondition,
        &["shop", "already in progress"],
    );
    // Remove and Reindex wait for the upload too.
    assert_refused(
        server
            .repos()
            .remove(pb::RemoveRepositoryRequest {
                repository: "shop".into(),
            })
            .await,
        Code::FailedPrecondition,
        &["already in progress"],
    );
    server.assert_healthy().await;

    // The first finishes; then a new upload works.
    tx.send(commit(true)).await.unwrap();
    drop(tx);
    let status = first
        .await
        .unwrap()
        .expect("the first upload commits")
        .into_inner();
    assert_eq!(status.files_seen, 1);
    upload(
        &mut server.repos(),
        vec![
            file("shop", "lib/a.ex", module("Shop.A", "a")),
            file("shop", "lib/b.ex", module("Shop.B", "b")),
            commit(true),
        ],
    )
    .await
    .expect("a new upload is accepted");
    wait_ready(&server, "shop", 2).await;
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_over_max_concurrent_requests_are_refused_but_health_answers() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_concurrent_requests: 2,
        ..Limits::default()
    };
    let server = TestServer::start(with_limits(dir.path(), limits)).await;

    // Two uploads hold the two permits, one after the other.
    let mut held = Vec::new();
    for repo in ["one", "two"] {
        let (tx, rx) = mpsc::channel(4);
        let mut client = server.repos();
        let call = tokio::spawn(async move { client.upload(ReceiverStream::new(rx)).await });
        tx.send(file(repo, "lib/a.ex", module("Shop.A", "a")))
            .await
            .unwrap();
        wait_for("the upload to run", || async {
            server.upload_running(repo).then_some(())
        })
        .await;
        held.push((tx, call));
    }

    assert_refused(
        server.repos().list(pb::ListRepositoriesRequest {}).await,
        Code::ResourceExhausted,
        &["max_concurrent_requests", "2"],
    );
    assert_refused(
        server.search().search(search_request("anything")).await,
        Code::ResourceExhausted,
        &["max_concurrent_requests"],
    );
    for service in ["", "aiex.v1.Search"] {
        assert_eq!(server.health_of(service).await, ServingStatus::Serving);
    }

    // Both uploads finish, and requests are served again.
    for (tx, call) in held {
        tx.send(commit(true)).await.unwrap();
        drop(tx);
        call.await.unwrap().expect("the held upload commits");
    }
    server.assert_healthy().await;
    assert_eq!(list_names(&server).await, ["one", "two"]);
}

// ---------------------------------------------------------------------------------------
// Remove, delete_missing, reflection, restart.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_repository_is_no_longer_listed_or_found() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    upload_ready(
        &server,
        "shop",
        &[
            ("lib/stock.ex", module("Shop.Stock", "reserve_stock")),
            ("lib/orders.ex", module("Shop.Orders", "place_order")),
        ],
    )
    .await;
    upload_ready(
        &server,
        "blog",
        &[("lib/post.ex", module("Blog.Post", "publish_post"))],
    )
    .await;
    let hits = search(&server, "reserve_stock").await;
    assert!(hits.iter().any(|h| h.repository == "shop"), "{hits:?}");
    let definition = || pb::SymbolRequest {
        symbol: "Shop.Stock.reserve_stock/1".into(),
        repositories: Vec::new(),
    };
    let refs = server
        .search()
        .definition(definition())
        .await
        .unwrap()
        .into_inner()
        .refs;
    assert_eq!(refs.len(), 1, "{refs:?}");

    let removed = server
        .repos()
        .remove(pb::RemoveRepositoryRequest {
            repository: "shop".into(),
        })
        .await
        .expect("Remove is served")
        .into_inner();
    assert_eq!(removed.files_removed, 2);

    assert_eq!(list_names(&server).await, ["blog"]);
    assert_refused(get(&server, "shop").await, Code::NotFound, &["shop"]);
    for query in ["reserve_stock", "place_order", "Shop.Stock"] {
        let hits = search(&server, query).await;
        assert!(hits.iter().all(|h| h.repository != "shop"), "{hits:?}");
    }
    // Its definitions are gone: not found.
    let gone = server.search().definition(definition()).await;
    assert!(
        gone.as_ref().is_err_and(|s| s.code() == Code::NotFound),
        "{gone:?}"
    );
    let hits = search(&server, "publish_post").await;
    assert!(hits.iter().any(|h| h.repository == "blog"), "{hits:?}");
    assert_refused(
        server
            .repos()
            .remove(pb::RemoveRepositoryRequest {
                repository: "shop".into(),
            })
            .await,
        Code::NotFound,
        &["shop"],
    );
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_missing_decides_whether_files_not_sent_are_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    let a = ("lib/a.ex", module("Shop.A", "alpha_function"));
    let b = ("lib/b.ex", module("Shop.B", "beta_function"));
    upload_ready(&server, "shop", &[a.clone(), b.clone()]).await;

    // Only a, keeping the rest.
    let status = upload(
        &mut server.repos(),
        vec![file("shop", a.0, a.1.clone()), commit(false)],
    )
    .await
    .expect("the upload is accepted");
    assert_eq!(status.files_seen, 1);
    assert_eq!(status.files_unchanged, 1);
    assert_eq!(status.files_deleted, 0);
    let status = wait_ready(&server, "shop", 2).await;
    assert_eq!(status.files_deleted, 0);
    let hits = search(&server, "beta_function").await;
    assert!(hits.iter().any(|h| h.path == "lib/b.ex"), "{hits:?}");

    // Only a, as a full snapshot: b goes.
    let status = upload(
        &mut server.repos(),
        vec![file("shop", a.0, a.1.clone()), commit(true)],
    )
    .await
    .expect("the upload is accepted");
    assert_eq!(status.files_deleted, 1);
    let status = wait_ready(&server, "shop", 1).await;
    assert_eq!(status.files_deleted, 1);
    let hits = search(&server, "beta_function").await;
    assert!(hits.iter().all(|h| h.path != "lib/b.ex"), "{hits:?}");
    let hits = search(&server, "alpha_function").await;
    assert!(hits.iter().any(|h| h.path == "lib/a.ex"), "{hits:?}");

    // Reindex rebuilds the same from the log.
    server
        .repos()
        .reindex(pb::ReindexRequest {
            repository: "shop".into(),
        })
        .await
        .expect("Reindex is served");
    let again = wait_ready(&server, "shop", 1).await;
    assert_eq!(again.chunks, status.chunks);
    let hits = search(&server, "alpha_function").await;
    assert!(hits.iter().any(|h| h.path == "lib/a.ex"), "{hits:?}");
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_the_aiex_services() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    let mut client = ServerReflectionClient::new(server.channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("reflection is served")
        .into_inner();
    let response = responses
        .message()
        .await
        .expect("a reflection answer")
        .expect("one answer");
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("expected a service list, got {response:?}");
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    for expected in [
        "aiex.v1.Search",
        "aiex.v1.Repositories",
        "aiex.v1.Cluster",
        "grpc.health.v1.Health",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    // The mesh-internal node service is not the gateway's to advertise.
    assert!(
        !names.iter().any(|n| n.starts_with("aiex.mesh.")),
        "{names:?}"
    );
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_serves_the_same_repositories_and_results() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("lib/stock.ex", module("Shop.Stock", "reserve_stock")),
        ("lib/orders.ex", module("Shop.Orders", "place_order")),
        (
            "test/stock_test.exs",
            "defmodule Shop.StockTest do\n  use ExUnit.Case\n  test \"reserve_stock reserves\" do\n    assert Shop.Stock.reserve_stock([1]) == 2\n  end\nend\n".to_string(),
        ),
    ];
    let (before, hits_before) = {
        let server = TestServer::start(config(dir.path())).await;
        upload_ready(&server, "shop", &files).await;
        upload_ready(
            &server,
            "gone",
            &[("lib/gone.ex", module("Gone.Away", "vanish"))],
        )
        .await;
        server
            .repos()
            .remove(pb::RemoveRepositoryRequest {
                repository: "gone".into(),
            })
            .await
            .expect("Remove is served");
        let before = wait_ready(&server, "shop", files.len() as u64).await;
        let hits = search(&server, "reserve_stock").await;
        assert!(!hits.is_empty());
        server.stop().await;
        (before, hits)
    };
    assert!(before.chunks > 0);

    let server = TestServer::start(config(dir.path())).await;
    let listed = wait_for("`shop` READY after the restart", || async {
        let list = server
            .repos()
            .list(pb::ListRepositoriesRequest {})
            .await
            .ok()?
            .into_inner()
            .repositories;
        (!list.is_empty()
            && list
                .iter()
                .all(|r| r.state == pb::RepositoryState::Ready as i32))
        .then_some(list)
    })
    .await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let after = &listed[0];
    assert_eq!(after.repository, "shop");
    assert_eq!(after.files_indexed, before.files_indexed);
    assert_eq!(after.chunks, before.chunks);
    assert_eq!(after.files_seen, before.files_seen);
    assert_eq!(search(&server, "reserve_stock").await, hits_before);
    let hits = search(&server, "vanish").await;
    assert!(hits.iter().all(|h| h.repository != "gone"), "{hits:?}");
    assert_refused(get(&server, "gone").await, Code::NotFound, &["gone"]);

    // The manifest came back too: the same files again are unchanged.
    let mut messages: Vec<_> = files
        .iter()
        .map(|(p, c)| file("shop", *p, c.clone()))
        .collect();
    messages.push(commit(true));
    let status = upload(&mut server.repos(), messages).await.unwrap();
    assert_eq!(status.files_unchanged, files.len() as u64);
    server.assert_healthy().await;
    server.stop().await;
}

/// Through the gateway, a search naming a function a `use` defines finds it first, at the
/// using module, though no chunk defines it; a search with a filter that leaves its module
/// out does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_finds_a_function_a_use_defines() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    let base = concat!(
        "defmodule Shop.Base do\n",
        "  defmacro __using__(_opts) do\n",
        "    quote do\n",
        "      def fetch(id), do: {__MODULE__, id}\n",
        "    end\n",
        "  end\n",
        "end\n",
    );
    upload_ready(
        &server,
        "shop",
        &[
            ("lib/base.ex", base.to_string()),
            (
                "lib/repo.ex",
                "defmodule Shop.Repo do\n  use Shop.Base\nend\n".to_string(),
            ),
            ("lib/stock.ex", module("Shop.Stock", "fetch_stock")),
        ],
    )
    .await;
    let hits = search(&server, "Shop.Repo.fetch/1").await;
    let top = &hits[0];
    assert_eq!(
        (
            top.symbol.as_str(),
            top.generated_by.as_str(),
            top.path.as_str(),
            top.signature.as_str()
        ),
        (
            "Shop.Repo.fetch/1",
            "Shop.Base",
            "lib/repo.ex",
            "def fetch(id)"
        ),
        "{hits:?}"
    );
    let quote = top.quoted_at.as_ref().expect("where the quote writes it");
    assert_eq!(
        (
            quote.symbol.as_str(),
            quote.path.as_str(),
            quote.span.unwrap().start_line
        ),
        ("Shop.Base.__using__/1", "lib/base.ex", 4)
    );
    // `Definition` says so too.
    let refs = server
        .search()
        .definition(pb::SymbolRequest {
            symbol: "Shop.Repo.fetch/1".into(),
            repositories: vec![],
        })
        .await
        .expect("Definition is served")
        .into_inner()
        .refs;
    assert_eq!(refs[0].quoted_at.as_ref(), Some(quote), "{refs:?}");
    // The module's last part will do, as it does for written functions.
    let hits = search(&server, "Repo.fetch").await;
    assert_eq!(
        (hits[0].symbol.as_str(), hits[0].generated_by.as_str()),
        ("Shop.Repo.fetch/1", "Shop.Base"),
        "{hits:?}"
    );
    let mut request = search_request("Shop.Repo.fetch/1");
    request.filters = Some(pb::SearchFilters {
        module: "Shop.Stock".into(),
        ..Default::default()
    });
    let filtered = server
        .search()
        .search(request)
        .await
        .expect("the search is served")
        .into_inner()
        .hits;
    assert!(
        filtered.iter().all(|h| h.generated_by.is_empty()),
        "{filtered:?}"
    );
    server.stop().await;
}

/// Through the gateway, a search naming a function a `for` names after what a function of
/// another file returns finds it first, with the chunk of the definition the `for` writes,
/// though no chunk defines it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_finds_a_function_a_for_names_after_another_files_list() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    let calc = concat!(
        "defmodule Calc do\n",
        "  for {name, _desc} <- Calc.Shared.unary_funs() do\n",
        "    def unquote(name)(x), do: Calc.Backend.apply(unquote(name), x)\n",
        "  end\n",
        "end\n",
    );
    upload_ready(
        &server,
        "calc",
        &[
            (
                "lib/shared.ex",
                "defmodule Calc.Shared do\n  def unary_funs, do: [exp: \"e^x\", log: \"ln x\"]\nend\n"
                    .to_string(),
            ),
            ("lib/calc.ex", calc.to_string()),
            (
                "lib/user.ex",
                "defmodule Calc.User do\n  def grow(x), do: Calc.exp(x)\nend\n".to_string(),
            ),
        ],
    )
    .await;
    let hits = search(&server, "Calc.exp").await;
    let top = &hits[0];
    assert_eq!(
        (
            top.symbol.as_str(),
            top.path.as_str(),
            top.signature.as_str(),
            top.span.unwrap().start_line,
            top.named_after.as_str(),
        ),
        (
            "Calc.exp/1",
            "lib/calc.ex",
            "def exp(x)",
            3,
            "Calc.Shared.unary_funs/0"
        ),
        "{hits:?}"
    );
    assert!(top.snippet.contains("def unquote(name)(x)"), "{top:?}");
    // `Definition` says so too.
    let refs = server
        .search()
        .definition(pb::SymbolRequest {
            symbol: "Calc.log/1".into(),
            repositories: vec![],
        })
        .await
        .expect("Definition is served")
        .into_inner()
        .refs;
    assert_eq!(
        (
            refs.len(),
            refs[0].path.as_str(),
            refs[0].named_after.as_str()
        ),
        (1, "lib/calc.ex", "Calc.Shared.unary_funs/0"),
        "{refs:?}"
    );
    server.stop().await;
}

/// A repository uploaded from one directory refuses an upload of another directory
/// under its name (two checkouts both called `app`: the second would delete the first
/// one's files), naming both and `--replace`; the same directory again, an upload that
/// does not say where it comes from, and one with `replace` are accepted. The source
/// is kept across a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_directory_under_a_repositorys_name_is_refused_unless_replacing() {
    let dir = tempfile::tempdir().unwrap();
    let from = |source: &str, replace: bool, fun: &str| {
        let mut first = file("app", "lib/a.ex", module("App.A", fun));
        first.source = source.into();
        first.replace = replace;
        vec![first, commit(true)]
    };
    {
        let server = TestServer::start(config(dir.path())).await;
        upload(&mut server.repos(), from("/src/app", false, "first"))
            .await
            .expect("the first upload is accepted");
        wait_ready(&server, "app", 1).await;
        server.stop().await;
    }
    let server = TestServer::start(config(dir.path())).await;
    assert_refused(
        upload(&mut server.repos(), from("/tmp/app", false, "second")).await,
        Code::FailedPrecondition,
        &["`app`", "/src/app", "/tmp/app", "--replace", "--name"],
    );
    // Nothing of the refused upload reached the index.
    assert!(search(&server, "second").await.is_empty());
    assert!(!search(&server, "first").await.is_empty());
    upload(&mut server.repos(), from("/src/app", false, "again"))
        .await
        .expect("the same directory again is accepted");
    upload(&mut server.repos(), from("", false, "unsaid"))
        .await
        .expect("an upload that does not say where it comes from is accepted");
    // It kept the source: another directory is still refused.
    assert_refused(
        upload(&mut server.repos(), from("/build/app", false, "third")).await,
        Code::FailedPrecondition,
        &["/src/app"],
    );
    upload(&mut server.repos(), from("/build/app", true, "replaced"))
        .await
        .expect("--replace is accepted");
    wait_for("the replacing upload indexed", || async {
        let hits = search(&server, "replaced").await;
        (!hits.is_empty()).then_some(())
    })
    .await;
    // The new source is the repository's now.
    assert_refused(
        upload(&mut server.repos(), from("/src/app", false, "back")).await,
        Code::FailedPrecondition,
        &["/build/app"],
    );
    server.stop().await;
}
