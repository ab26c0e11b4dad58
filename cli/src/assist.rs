//! The assist commands: `aiex explain`, `aiex complete`, `aiex gen module|tests` and
//! `aiex chat`. Answers stream to stdout as the model writes them; what the server says
//! about the answer (provider, whether generated Elixir parses, the chat session) goes
//! to stderr, so stdout is the answer alone.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use aiex_proto::v1 as pb;
use aiex_proto::v1::assist_client::AssistClient;
use anyhow::{Context, Result, bail};
use tonic::Streaming;

use crate::Settings;
use crate::client::{connect, status_error};

/// Largest local file sent as context.
const MAX_LOCAL_BYTES: u64 = 1 << 20;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Detail {
    Basic,
    Intermediate,
    Advanced,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Focus {
    Architecture,
    Patterns,
    Performance,
    Security,
}

#[derive(Debug, clap::Subcommand)]
pub enum GenCommand {
    /// Generate a module with @moduledoc, @doc and @spec: `aiex gen module NAME "DESCRIPTION"`.
    Module {
        name: String,
        description: String,
        /// Also write the final (checked) code to this file.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[arg(long)]
        repo: Vec<String>,
    },
    /// Generate ExUnit tests (and StreamData properties) for a module, function, file or `path:START-END`.
    Tests {
        target: String,
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[arg(long)]
        repo: Vec<String>,
    },
}

/// The source of a target the client can read locally: a file, or `path:START-END`.
fn local_source(target: &str) -> Result<String> {
    if let Some((path, range)) = target.rsplit_once(':')
        && let Some((start, end)) = range.split_once('-')
        && Path::new(path).is_file()
    {
        let (start, end): (usize, usize) = match (start.parse(), end.parse()) {
            (Ok(s), Ok(e)) if s >= 1 && e >= s => (s, e),
            _ => bail!("`{target}`: want PATH:START-END with 1 <= START <= END"),
        };
        let text = read_local(Path::new(path))?;
        let lines: Vec<&str> = text.lines().skip(start - 1).take(end - start + 1).collect();
        if lines.is_empty() {
            bail!("`{target}`: {path} has fewer than {start} lines");
        }
        return Ok(lines.join("\n") + "\n");
    }
    if Path::new(target).is_file() {
        return read_local(Path::new(target));
    }
    Ok(String::new())
}

fn read_local(path: &Path) -> Result<String> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if len > MAX_LOCAL_BYTES {
        bail!(
            "{} is {len} bytes, over the {MAX_LOCAL_BYTES}-byte limit for context; name a line range (PATH:START-END)",
            path.display()
        );
    }
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {} as UTF-8 text", path.display()))
}

/// Prints a stream's tokens as they arrive; returns its `Done`.
async fn print_stream(
    what: &str,
    mut stream: Streaming<pb::AssistEvent>,
) -> Result<pb::assist_event::Done> {
    use pb::assist_event::Event;
    let mut out = std::io::stdout().lock();
    let mut done = None;
    loop {
        let event = match stream.message().await {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(s) => {
                let _ = writeln!(out);
                return Err(status_error(what, s));
            }
        };
        match event.event {
            Some(Event::Token(t)) => {
                // A model's CRLF line ends are line ends, not control characters.
                let text = t.text.replace("\r\n", "\n");
                out.write_all(crate::output::shown(&text).as_bytes())?;
                out.flush()?;
            }
            Some(Event::Done(d)) => done = Some(d),
            Some(Event::Error(e)) => {
                let _ = writeln!(out);
                bail!("{what}: {}", e.message);
            }
            Some(Event::Usage(_)) | None => {}
        }
    }
    writeln!(out)?;
    done.with_context(|| format!("{what}: the answer ended without finishing; retry"))
}

fn report(done: &pb::assist_event::Done, checks_elixir: bool) {
    let mut line = format!("[{}", done.provider);
    if !done.model.is_empty() {
        line.push_str(&format!(" {}", done.model));
    }
    if checks_elixir {
        line.push_str(if done.valid_elixir {
            ", the code parses"
        } else {
            ", WARNING: the code does not parse"
        });
        if done.repaired {
            line.push_str(" (after one repair)");
        }
    }
    line.push(']');
    eprintln!("{line}");
}

/// Writes the generated code to `out` when asked, then fails (exit 1) if the code still
/// does not parse after the repair, so a script does not take broken code for a result.
/// The code is written anyway, to be fixed by hand.
fn write_out(what: &str, out: &Option<PathBuf>, done: &pb::assist_event::Done) -> Result<()> {
    if let Some(path) = out {
        std::fs::write(path, &done.code)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    if !done.valid_elixir {
        bail!(
            "{what}: the generated code still does not parse after one repair ({}); fix it by \
             hand or ask again",
            match out {
                Some(path) => format!("written to {}", path.display()),
                None => "printed above".to_string(),
            }
        );
    }
    Ok(())
}

pub async fn explain(
    settings: &Settings,
    target: String,
    detail: Detail,
    focus: Option<Focus>,
    repositories: Vec<String>,
) -> Result<()> {
    let code = local_source(&target)?;
    let mut client = AssistClient::new(connect(settings).await?);
    let detail = match detail {
        Detail::Basic => pb::Detail::Basic,
        Detail::Intermediate => pb::Detail::Intermediate,
        Detail::Advanced => pb::Detail::Advanced,
    };
    let focus = match focus {
        None => pb::Focus::Unspecified,
        Some(Focus::Architecture) => pb::Focus::Architecture,
        Some(Focus::Patterns) => pb::Focus::Patterns,
        Some(Focus::Performance) => pb::Focus::Performance,
        Some(Focus::Security) => pb::Focus::Security,
    };
    let stream = client
        .explain(pb::ExplainRequest {
            target,
            detail: detail as i32,
            focus: focus as i32,
            repositories,
            code,
        })
        .await
        .map_err(|s| status_error("explain", s))?
        .into_inner();
    let done = print_stream("explain", stream).await?;
    report(&done, false);
    Ok(())
}

pub async fn complete(settings: &Settings, at: String) -> Result<()> {
    let Some((path, line)) = at.rsplit_once(':') else {
        bail!("`{at}`: want FILE:LINE");
    };
    let line: u32 = line
        .parse()
        .ok()
        .filter(|l| *l >= 1)
        .with_context(|| format!("`{at}`: LINE must be a line number (1 or more)"))?;
    let text = read_local(Path::new(path))?;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    if line as usize > lines.len().max(1) {
        bail!("`{at}`: {path} has {} lines", lines.len());
    }
    // The cursor is at the end of LINE.
    let cut = lines
        .iter()
        .take(line as usize)
        .map(|l| l.len())
        .sum::<usize>();
    let before = &text[..cut];
    let (prefix, suffix) = match before.strip_suffix('\n') {
        Some(p) => (p.to_string(), format!("\n{}", &text[cut..])),
        None => (before.to_string(), text[cut..].to_string()),
    };
    let mut client = AssistClient::new(connect(settings).await?);
    let stream = client
        .complete(pb::CompleteRequest {
            path: path.to_string(),
            repository: String::new(),
            line,
            prefix,
            suffix,
        })
        .await
        .map_err(|s| status_error("complete", s))?
        .into_inner();
    let done = print_stream("complete", stream).await?;
    report(&done, true);
    Ok(())
}

pub async fn generate(settings: &Settings, command: GenCommand) -> Result<()> {
    let mut client = AssistClient::new(connect(settings).await?);
    match command {
        GenCommand::Module {
            name,
            description,
            out,
            repo,
        } => {
            let stream = client
                .generate_module(pb::GenerateModuleRequest {
                    name,
                    description,
                    repositories: repo,
                })
                .await
                .map_err(|s| status_error("gen module", s))?
                .into_inner();
            let done = print_stream("gen module", stream).await?;
            report(&done, true);
            write_out("gen module", &out, &done)
        }
        GenCommand::Tests { target, out, repo } => {
            let code = local_source(&target)?;
            let stream = client
                .generate_tests(pb::GenerateTestsRequest {
                    target,
                    repositories: repo,
                    code,
                })
                .await
                .map_err(|s| status_error("gen tests", s))?
                .into_inner();
            let done = print_stream("gen tests", stream).await?;
            report(&done, true);
            write_out("gen tests", &out, &done)
        }
    }
}

/// One question per stdin line; the session id is printed to stderr after the first
/// answer (resume with `--session ID`).
pub async fn chat(
    settings: &Settings,
    session: Option<String>,
    repositories: Vec<String>,
) -> Result<()> {
    let mut client = AssistClient::new(connect(settings).await?);
    let mut session_id = session.unwrap_or_default();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<String>>(16);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            if tx.blocking_send(line).is_err() {
                return;
            }
        }
    });
    let mut announced = false;
    while let Some(line) = rx.recv().await {
        let message = line.context("reading stdin")?;
        if message.trim().is_empty() {
            continue;
        }
        let stream = client
            .chat(pb::ChatRequest {
                session_id: session_id.clone(),
                message,
                repositories: repositories.clone(),
            })
            .await
            .map_err(|s| status_error("chat", s))?
            .into_inner();
        let done = print_stream("chat", stream).await?;
        if !announced || done.session_id != session_id {
            eprintln!(
                "session: {} (resume with `aiex chat --session {}`)",
                done.session_id, done.session_id
            );
            announced = true;
        }
        session_id = done.session_id;
    }
    Ok(())
}
