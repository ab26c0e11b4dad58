//! Fitting gathered sections to a token budget: collapse bodies to signatures, lowest
//! priority first; then drop whole sections, lowest priority first; and only when the
//! question and the target alone are over, cut the target (then the question) with a
//! marker. Counted first by the sum of the sections, then by the whole rendered prompt,
//! which decides. What was dropped and fits in the end comes back.

use std::collections::{HashMap, HashSet};

use super::{
    Context, ContextBuilder, Dropped, Section, SectionKind, TRUNCATION_MARKER, block, truncate_with,
};

/// How the section naming the callers beyond those shown starts.
const OTHER_CALLERS: &str = "Other callers of ";

impl ContextBuilder<'_> {
    /// Collapses, drops and (last) cuts until the rendered prompt fits `budget`.
    pub(super) fn fit(&self, mut sections: Vec<Section>, budget: usize) -> Context {
        // Lowest priority first: least important kind, and within a kind the last.
        let mut order: Vec<usize> = (0..sections.len())
            .filter(|&i| !sections[i].kind.is_required())
            .collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(sections[i].kind), std::cmp::Reverse(i)));
        let mut dropped_idx: HashSet<usize> = HashSet::new();
        // The bodies of collapsed sections, with their counts, to bring back what fits.
        let mut bodies: HashMap<usize, (String, usize)> = HashMap::new();
        // First by the sum of the sections' counts (cheap): collapse, then drop.
        let mut total: usize = sections.iter().map(|s| s.tokens).sum();
        for &i in &order {
            if total <= budget {
                break;
            }
            total -= self.collapse_keeping(&mut sections, i, &mut bodies);
        }
        for &i in &order {
            if total <= budget {
                break;
            }
            dropped_idx.insert(i);
            total -= sections[i].tokens;
        }
        // Then by the count of the whole prompt, which may be a little over the sum
        // (tokens can merge across a boundary): the same steps one at a time, and at
        // last cutting the target, then the question.
        let mut truncated = false;
        let mut exhausted: HashSet<usize> = HashSet::new();
        // Every pass counts the prompt as it stands and then either stops or changes it,
        // so at the end `real` is the count of the prompt returned.
        let mut real;
        loop {
            real = self.counter.count(&render_except(&sections, &dropped_idx));
            if real <= budget {
                break;
            }
            let live = |i: &&usize| !dropped_idx.contains(*i);
            if let Some(&i) = order
                .iter()
                .filter(live)
                .find(|&&i| sections[i].collapsed_text.is_some())
            {
                self.collapse_keeping(&mut sections, i, &mut bodies);
                continue;
            }
            if let Some(&i) = order.iter().find(live) {
                dropped_idx.insert(i);
                continue;
            }
            let over = real - budget;
            let cut = (0..sections.len())
                .filter(|i| {
                    !dropped_idx.contains(i)
                        && !exhausted.contains(i)
                        && sections[*i].kind.is_required()
                })
                .max_by_key(|&i| (sections[i].kind, i));
            let Some(i) = cut else { break };
            let s = &mut sections[i];
            // A target gives up the rest of its docs before any of its code, and a module
            // its functions' bodies before their heads.
            // A form is taken only when it is shorter (its title says more).
            if !s.shortened_text.is_empty() {
                let (what, short) = s.shortened_text.remove(0);
                let title = format!("{} [{what}]", base_title(&s.title));
                let tokens = self.counter.count(&block(&title, &short));
                if tokens < s.tokens {
                    truncated = true;
                    (s.title, s.text, s.tokens) = (title, short, tokens);
                }
                continue;
            }
            let marker = if s.kind == SectionKind::Target {
                truncated = true;
                if !s.title.ends_with("[truncated]") {
                    // Cut says it all: the title grows no longer than that.
                    s.title = format!("{} [truncated]", base_title(&s.title));
                }
                TRUNCATION_MARKER
            } else {
                " …"
            };
            let allowance = s.tokens.saturating_sub(over);
            // A cut earlier ended the text with the marker, and closed its code block.
            let body = match s
                .text
                .strip_suffix(|c| c == '`')
                .map(|t| t.trim_end_matches('`'))
            {
                Some(t) if t.ends_with(&format!("{marker}\n")) => &t[..t.len() - marker.len() - 1],
                _ => s.text.strip_suffix(marker).unwrap_or(&s.text),
            };
            // A cut inside a code block closes it after the marker, so what follows
            // (the question) is not read as code.
            let ending = |prefix: &str| match open_fence(prefix) {
                Some(fence) => format!("{marker}\n{fence}"),
                None => marker.to_string(),
            };
            let title = s.title.clone();
            let kept = truncate_with(body, |prefix| {
                self.counter
                    .count(&block(&title, &format!("{prefix}{}", ending(prefix))))
                    <= allowance
            });
            if kept.is_empty() {
                exhausted.insert(i);
                // Nothing of it fits: its places go too, so that a tiny budget holds at
                // least the target's name (a module of many chunks lists several).
                if s.kind == SectionKind::Target {
                    s.title = without_places(&s.title);
                }
            }
            s.text = format!("{kept}{}", ending(&kept));
            s.tokens = self.counter.count(&s.render());
        }
        // What was dropped to make room and fits once the rest is settled comes back,
        // most important first: a target cut or shortened well under the budget, or a big
        // section dropped after a small one, leaves room (a 2,000-token context of a cut
        // target used 649 tokens).
        if real < budget {
            for &i in order.iter().rev() {
                if !dropped_idx.contains(&i) || sections[i].tokens > budget - real {
                    continue;
                }
                dropped_idx.remove(&i);
                let with = self.counter.count(&render_except(&sections, &dropped_idx));
                if with <= budget {
                    real = with;
                } else {
                    dropped_idx.insert(i);
                }
            }
        }
        // So do the bodies collapsed to make room for what was dropped after all (a
        // module header of 8,000 tokens collapsed every hit before it went, and left a
        // 1,300-token context of signatures in an 8,000-token budget): most important
        // first, each while the whole still fits.
        if real < budget {
            for &i in order.iter().rev() {
                let Some((body, tokens)) = bodies.get(&i) else {
                    continue;
                };
                if dropped_idx.contains(&i) || tokens - sections[i].tokens > budget - real {
                    continue;
                }
                let s = &mut sections[i];
                let short = std::mem::replace(&mut s.text, body.clone());
                let short_tokens = std::mem::replace(&mut s.tokens, *tokens);
                s.collapsed = false;
                let with = self.counter.count(&render_except(&sections, &dropped_idx));
                if with <= budget {
                    real = with;
                } else {
                    let s = &mut sections[i];
                    (s.text, s.tokens, s.collapsed) = (short, short_tokens, true);
                }
            }
        }
        // The callers dropped are callers "not shown" too: the "Other callers" section
        // kept counts those of its function (Expo's `parse_file!/2`: "1 more" with six
        // missing), where the prompt still fits.
        let others: Vec<usize> = (0..sections.len())
            .filter(|i| !dropped_idx.contains(i) && sections[*i].title.starts_with(OTHER_CALLERS))
            .collect();
        for o in others {
            let of = sections[o].caller_of.clone();
            let dropped_callers = (dropped_idx.iter())
                .filter(|&&i| {
                    sections[i].title.starts_with("Caller: ")
                        && of.is_some()
                        && sections[i].caller_of == of
                })
                .count();
            let Some((head, rest)) = sections[o].title.split_once(": ") else {
                continue;
            };
            let Some((n, tail)) = rest.split_once(" more") else {
                continue;
            };
            let Ok(n) = n.parse::<usize>() else {
                continue;
            };
            if dropped_callers == 0 {
                continue;
            }
            let before = (sections[o].title.clone(), sections[o].tokens);
            sections[o].title = format!("{head}: {} more{tail}", n + dropped_callers);
            sections[o].tokens = self
                .counter
                .count(&block(&sections[o].title, &sections[o].text));
            let with = self.counter.count(&render_except(&sections, &dropped_idx));
            if with <= budget {
                real = with;
            } else {
                (sections[o].title, sections[o].tokens) = before;
            }
        }
        let mut kept = Vec::new();
        let mut dropped = Vec::new();
        for (i, s) in sections.into_iter().enumerate() {
            if dropped_idx.contains(&i) {
                dropped.push((i, s));
            } else {
                kept.push(s);
            }
        }
        // Reported lowest priority first, the order they were dropped in.
        dropped.sort_by_key(|(i, _)| order.iter().position(|o| o == i));
        let dropped = dropped
            .into_iter()
            .map(|(_, s)| Dropped {
                kind: s.kind,
                title: s.title,
                tokens: s.tokens,
            })
            .collect();
        Context {
            model: self.counter.model().to_string(),
            tokenizer: self.counter.tokenizer(),
            sections: kept,
            // The kept sections in order: what `real` counted.
            tokens: real,
            budget,
            dropped,
            truncated,
        }
    }

    /// [`collapse`](Self::collapse) of section `i`, keeping its body in `bodies`.
    fn collapse_keeping(
        &self,
        sections: &mut [Section],
        i: usize,
        bodies: &mut HashMap<usize, (String, usize)>,
    ) -> usize {
        let body = (sections[i].text.clone(), sections[i].tokens);
        let saved = self.collapse(&mut sections[i]);
        if saved > 0 {
            bodies.insert(i, body);
        }
        saved
    }

    /// Replaces a section's body by its signature when that is shorter; returns the
    /// tokens saved.
    fn collapse(&self, s: &mut Section) -> usize {
        let Some(short) = s.collapsed_text.take() else {
            return 0;
        };
        let tokens = self.counter.count(&block(&s.title, &short));
        if tokens >= s.tokens {
            return 0;
        }
        let saved = s.tokens - tokens;
        s.text = short;
        s.tokens = tokens;
        s.collapsed = true;
        saved
    }
}

/// A section's title without what a shorter form of it added (`[docs shortened]`,
/// `[functions by their heads]`).
/// `Target: App.M0 (lib/app/m0.ex:1-7, …) [truncated]` as `Target: App.M0 [truncated]`.
fn without_places(title: &str) -> String {
    match (title.find(" ("), title.rfind(") [")) {
        (Some(open), Some(close)) if open < close => {
            format!("{}{}", &title[..open], &title[close + 1..])
        }
        _ => title.to_string(),
    }
}

fn base_title(title: &str) -> &str {
    (super::SHORTER_FORMS.iter())
        .find_map(|form| (title.strip_suffix(']')?.strip_suffix(form)?).strip_suffix(" ["))
        .unwrap_or(title)
}

fn render_except(sections: &[Section], dropped: &HashSet<usize>) -> String {
    sections
        .iter()
        .enumerate()
        .filter(|(i, _)| !dropped.contains(i))
        .map(|(_, s)| s.render())
        .collect()
}

/// The longest run of backticks in `text`.
pub(crate) fn longest_backtick_run(text: &str) -> usize {
    let (mut longest, mut run) = (0, 0);
    for b in text.bytes() {
        run = if b == b'`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// The fence of the code block `text` leaves open, if any: a line of three or more
/// backticks (and a language) opens a block, and only a line of at least as many
/// backticks, and nothing else, closes it, as in CommonMark.
fn open_fence(text: &str) -> Option<&str> {
    let mut open: Option<&str> = None;
    for line in text.lines() {
        let line = line.trim_start();
        let ticks = line.len() - line.trim_start_matches('`').len();
        match open {
            None if ticks >= 3 => open = Some(&line[..ticks]),
            Some(fence) if ticks >= fence.len() && line[ticks..].trim().is_empty() => open = None,
            _ => {}
        }
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fence_is_closed_only_by_one_as_long() {
        let doc = "````elixir\n@doc \"\"\"\n```elixir\niex> f()\n```\n\"\"\"\ndef f";
        assert_eq!(open_fence(doc), Some("````"));
        assert_eq!(open_fence(&format!("{doc}\n````\nafter")), None);
        assert_eq!(open_fence("```\ncode\n```\n"), None);
        assert_eq!(open_fence("plain text"), None);
        assert_eq!(longest_backtick_run("a ``` b ```` c"), 4);
    }
}
