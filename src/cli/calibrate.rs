//! `lawcert calibrate FILE.csv [--json] [--anchors FILE.csv] [--target LOGITS]`: Rasch
//! calibration of a response matrix without a database, so anyone can check the estimator
//! ([`crate::domain::measurement::rasch`]) on their own data; and
//! `lawcert calibrate --simulate PERSONS POOL PAPER [--seed N] [--json]`: the calibration
//! benchmark on simulated pool-drawn papers (BENCHMARKS.md), with recovery against the truth.
//!
//! The input is CSV with a header line naming the columns `person`, `item` and `score` (any
//! order, other columns ignored); score is 0/1 or the fraction of the item's points earned. One
//! line per response; a person answers an item at most once. Anchors are CSV `item,difficulty`.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use serde::Serialize;

use crate::domain::measurement::flags::{self, FlagRules};
use crate::domain::measurement::rasch::{self, Calibration, Labels, Obs, Options, RaschError, Status};
use crate::domain::measurement::sim;

/// What the command line asked for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Args {
    pub file: Option<String>,
    pub json: bool,
    pub anchors: Option<String>,
    pub target: Option<f64>,
    /// (persons, pool, paper)
    pub simulate: Option<(usize, usize, usize)>,
    pub seed: u64,
}

impl Args {
    /// The command line's options, checked beyond what clap checks.
    pub fn from_cli(c: &super::args::CalibrateArgs) -> Result<Args, String> {
        if c.target.is_some_and(|t| !t.is_finite()) {
            return Err("calibrate: --target must be a finite number of logits".into());
        }
        let simulate = match c.simulate.as_deref() {
            None => None,
            Some(&[persons, pool, paper]) => {
                if persons == 0 || pool == 0 || paper == 0 {
                    return Err("calibrate: --simulate needs positive PERSONS POOL PAPER".into());
                }
                if paper > pool {
                    return Err(format!("calibrate: a paper of {paper} items cannot be drawn from a pool of {pool}"));
                }
                Some((persons, pool, paper))
            }
            Some(_) => return Err("calibrate: --simulate needs PERSONS POOL PAPER".into()),
        };
        Ok(Args {
            file: c.file.as_ref().map(|f| f.display().to_string()),
            json: c.json,
            anchors: c.anchors.as_ref().map(|f| f.display().to_string()),
            target: c.target,
            simulate,
            seed: c.seed,
        })
    }
}

/// `lawcert calibrate …` as the binary runs it: exit code 0 when it calibrated, 2 otherwise (bad
/// input, data that cannot be calibrated), with the reason on stderr.
pub fn execute(c: &super::args::CalibrateArgs) -> i32 {
    let args = match Args::from_cli(c) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let done = match args.simulate {
        Some((persons, pool, paper)) => simulate(persons, pool, paper, args.seed, args.json, &mut out),
        None => run_with(Path::new(args.file.as_deref().unwrap_or_default()), &args, &mut out),
    };
    match done.and_then(|()| out.flush().map_err(Into::into)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("calibrate: {e:#}");
            2
        }
    }
}

/// Calibrates the CSV file at `path` and writes the report (a table, or JSON with `json`).
pub fn run(path: &Path, json: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    run_with(path, &Args { json, ..Args::default() }, out)
}

/// Responses read from a CSV file, with the labels of persons and items.
pub struct ResponseFile {
    pub persons: Labels<String>,
    pub items: Labels<String>,
    pub obs: Vec<Obs>,
}

/// Reads `person,item,score` CSV text; an error names the line and what is wrong with it.
pub fn read_responses(text: &str) -> anyhow::Result<ResponseFile> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| anyhow!("line 1: {e}"))?.clone();
    if header.iter().all(str::is_empty) {
        bail!("the file is empty: the first line must be the header person,item,score");
    }
    let col = |name: &str| {
        header.iter().position(|h| h.eq_ignore_ascii_case(name)).ok_or_else(|| {
            anyhow!(
                "line 1: no {name:?} column (the header is {:?}; it must name person, item and score)",
                header.iter().collect::<Vec<_>>().join(",")
            )
        })
    };
    let (pc, ic, sc) = (col("person")?, col("item")?, col("score")?);
    let (mut persons, mut items, mut obs) = (Labels::new(), Labels::new(), Vec::new());
    let mut seen: HashMap<(u32, u32), u64> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| match e.kind() {
            csv::ErrorKind::UnequalLengths { pos, expected_len, len } => {
                anyhow!("line {}: {len} field(s) where the header has {expected_len}", pos.as_ref().map_or(0, |p| p.line()))
            }
            _ => anyhow!("{}: {e}", e.position().map_or("input".into(), |p| format!("line {}", p.line()))),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |c: usize, name: &str| {
            let v = record.get(c).unwrap_or_default();
            if v.is_empty() {
                Err(anyhow!("line {line}: empty {name}"))
            } else {
                Ok(v)
            }
        };
        let (person, item, score) = (field(pc, "person")?, field(ic, "item")?, field(sc, "score")?);
        let s = score
            .parse::<f64>()
            .ok()
            .filter(|s| (0.0..=1.0).contains(s))
            .ok_or_else(|| anyhow!("line {line}: score {score:?} is not a number from 0 to 1"))?;
        let (p, i) = (persons.id(&person.to_string()), items.id(&item.to_string()));
        if let Some(first) = seen.insert((p, i), line) {
            bail!("line {line}: person {person:?} already answered item {item:?} on line {first}");
        }
        obs.push(Obs { person: p, item: i, score: s });
    }
    if obs.is_empty() {
        bail!("no responses after the header line");
    }
    Ok(ResponseFile { persons, items, obs })
}

/// Reads `item,difficulty` anchors; items not in the responses are an error (a typo would
/// otherwise silently leave the scale unanchored).
fn read_anchors(text: &str, items: &Labels<String>) -> anyhow::Result<Vec<(u32, f64)>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| anyhow!("line 1: {e}"))?.clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or_else(|| anyhow!("line 1: no {name:?} column (it must name item and difficulty)"))
    };
    let (ic, dc) = (col("item")?, col("difficulty")?);
    let mut anchors = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| anyhow!("{}: {e}", e.position().map_or("input".into(), |p| format!("line {}", p.line()))))?;
        let line = record.position().map_or(0, |p| p.line());
        let item = record.get(ic).unwrap_or_default();
        let d = record.get(dc).unwrap_or_default();
        let i = items.get(&item.to_string()).ok_or_else(|| anyhow!("line {line}: item {item:?} has no responses in the data"))?;
        let v = d.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| anyhow!("line {line}: difficulty {d:?} is not a number"))?;
        if anchors.iter().any(|&(j, _)| j == i) {
            bail!("line {line}: item {item:?} is anchored twice");
        }
        anchors.push((i, v));
    }
    Ok(anchors)
}

/// An estimator error in the file's own names.
fn explain(e: RaschError, f: &ResponseFile) -> anyhow::Error {
    match e {
        RaschError::Disconnected { groups, anchored } => {
            let list = groups
                .iter()
                .map(|g| {
                    let names: Vec<&str> = g.iter().take(8).map(|&i| f.items.key(i).as_str()).collect();
                    let more = if g.len() > 8 { format!(" and {} more", g.len() - 8) } else { String::new() };
                    format!("items {}{more}", names.join(", "))
                })
                .collect::<Vec<_>>()
                .join("; ");
            anyhow!("{}: {list}", RaschError::Disconnected { groups, anchored })
        }
        RaschError::Duplicate { person, item } => {
            anyhow!("person {:?} has two responses to item {:?}", f.persons.key(person), f.items.key(item))
        }
        other => anyhow!(other),
    }
}

#[derive(Serialize)]
struct ItemRow<'a> {
    item: &'a str,
    #[serde(flatten)]
    estimate: &'a rasch::ItemEstimate,
    flags: Vec<&'static str>,
}

#[derive(Serialize)]
struct PersonRow<'a> {
    person: &'a str,
    #[serde(flatten)]
    estimate: &'a rasch::PersonEstimate,
}

#[derive(Serialize)]
struct Report<'a> {
    file: String,
    method: &'static str,
    responses: usize,
    iterations: usize,
    mean_test_length: f64,
    bias_factor: f64,
    identification: &'static str,
    items: Vec<ItemRow<'a>>,
    persons: Vec<PersonRow<'a>>,
}

fn num(v: f64, decimals: usize) -> String {
    if v.is_finite() {
        format!("{v:.decimals$}")
    } else {
        "-".into()
    }
}

fn run_with(path: &Path, args: &Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file = read_responses(&text).with_context(|| path.display().to_string())?;
    let anchors = match &args.anchors {
        Some(a) => {
            let t = std::fs::read_to_string(a).with_context(|| format!("reading {a}"))?;
            read_anchors(&t, &file.items).with_context(|| a.clone())?
        }
        None => Vec::new(),
    };
    let opts = Options { anchors, ..Options::default() };
    let cal = rasch::calibrate(file.persons.len(), file.items.len(), &file.obs, &opts)
        .map_err(|e| explain(e, &file).context(path.display().to_string()))?;
    let rules = FlagRules { target: args.target, ..FlagRules::default() };
    write_report(path, &file, &cal, &rules, !opts.anchors.is_empty(), args.json, out)
}

fn write_report(
    path: &Path,
    file: &ResponseFile,
    cal: &Calibration,
    rules: &FlagRules,
    anchored: bool,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let identification = if anchored { "anchored items keep their difficulties" } else { "mean difficulty of the measured items is 0" };
    let mut items: Vec<ItemRow> = cal
        .items
        .iter()
        .enumerate()
        .map(|(i, e)| ItemRow {
            item: file.items.key(i as u32),
            estimate: e,
            flags: flags::item_flags(e, rules).into_iter().map(flags::Flag::as_str).collect(),
        })
        .collect();
    let mut persons: Vec<PersonRow> =
        cal.persons.iter().enumerate().map(|(p, e)| PersonRow { person: file.persons.key(p as u32), estimate: e }).collect();
    items.sort_by(|a, b| natural_cmp(a.item, b.item));
    persons.sort_by(|a, b| natural_cmp(a.person, b.person));
    if json {
        let report = Report {
            file: path.display().to_string(),
            method: "joint maximum likelihood, (L-1)/L bias correction",
            responses: file.obs.len(),
            iterations: cal.iterations,
            mean_test_length: cal.mean_test_length,
            bias_factor: cal.bias_factor,
            identification,
            items,
            persons,
        };
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
        return Ok(());
    }
    let status = |s: Status| match s {
        Status::Measured => "",
        Status::AllCorrect => "all correct",
        Status::AllWrong => "all wrong",
    };
    writeln!(
        out,
        "Rasch calibration of {}: {} persons, {} items, {} responses\n\
         joint maximum likelihood, {} iterations; bias correction (L-1)/L = {:.4} with L = {:.1} responses per person; {identification}\n",
        path.display(),
        file.persons.len(),
        file.items.len(),
        file.obs.len(),
        cal.iterations,
        cal.bias_factor,
        cal.mean_test_length
    )?;
    let w = items.iter().map(|r| r.item.chars().count()).max().unwrap_or(4).clamp(4, 40);
    writeln!(
        out,
        "{:<w$}  {:>10} {:>6} {:>6} {:>8}  {:>6} {:>6}  {:>6} {:>6}  flags",
        "item", "difficulty", "SE", "n", "score", "infit", "z", "outfit", "z"
    )?;
    for r in &items {
        let e = r.estimate;
        let fit = |f: fn(&rasch::Fit) -> f64, d| e.fit.as_ref().map_or("-".into(), |x| num(f(x), d));
        let mut notes: Vec<String> = r.flags.iter().map(|f| f.to_string()).collect();
        if e.anchored {
            notes.insert(0, format!("anchored (displacement {})", e.displacement.map_or("-".into(), |d| num(d, 2))));
        }
        writeln!(
            out,
            "{:<w$}  {:>10} {:>6} {:>6} {:>8}  {:>6} {:>6}  {:>6} {:>6}  {}",
            r.item,
            num(e.difficulty, 3),
            num(e.se, 3),
            e.count,
            num(e.score, 2),
            fit(|f| f.infit, 2),
            fit(|f| f.infit_z, 1),
            fit(|f| f.outfit, 2),
            fit(|f| f.outfit_z, 1),
            notes.join(", ")
        )?;
    }
    let w = persons.iter().map(|r| r.person.chars().count()).max().unwrap_or(6).clamp(6, 40);
    writeln!(out, "\n{:<w$}  {:>8} {:>6} {:>6} {:>8}  {:>6} {:>6}  status", "person", "ability", "SE", "n", "score", "infit", "outfit")?;
    for r in &persons {
        let e = r.estimate;
        let fit = |f: fn(&rasch::Fit) -> f64| e.fit.as_ref().map_or("-".into(), |x| num(f(x), 2));
        writeln!(
            out,
            "{:<w$}  {:>8} {:>6} {:>6} {:>8}  {:>6} {:>6}  {}",
            r.person,
            num(e.ability, 3),
            num(e.se, 3),
            e.count,
            num(e.score, 2),
            fit(|f| f.infit),
            fit(|f| f.outfit),
            status(e.status)
        )?;
    }
    Ok(())
}

/// Orders labels as people read them: runs of digits by their value ("I2" before "I10").
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn runs(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (ra, rb) = (runs(a), runs(b));
    for (x, y) in ra.iter().zip(&rb) {
        let o = match (x, y) {
            ((true, x), (true, y)) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then(x.cmp(y))
            }
            ((_, x), (_, y)) => x.cmp(y),
        };
        if o.is_ne() {
            return o;
        }
    }
    ra.len().cmp(&rb.len()).then(a.cmp(b))
}

/// (CPU seconds used by this process so far, its peak resident set in MB), where the platform
/// tells. CPU time is reported beside wall time because a shared machine stretches the latter.
fn usage_now() -> Option<(f64, f64)> {
    #[cfg(unix)]
    {
        // SAFETY: getrusage only writes the struct it is given.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } == 0 {
            let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            return Some((secs(u.ru_utime) + secs(u.ru_stime), u.ru_maxrss as f64 / 1024.0));
        }
    }
    None
}

/// The calibration benchmark: simulate, calibrate, report time and recovery.
pub fn simulate(persons: usize, pool: usize, paper: usize, seed: u64, json: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let data = sim::simulate(persons, pool, paper, paper, seed);
    let simulated = started.elapsed();
    // Every pool item must have a response to be calibrated; with small designs some may not.
    let mut items = Labels::new();
    let obs: Vec<Obs> = data.obs.iter().map(|o| Obs { item: items.id(&o.item), ..*o }).collect();
    let (cpu_before, started) = (usage_now(), std::time::Instant::now());
    let cal = rasch::calibrate(persons, items.len(), &obs, &Options::default()).map_err(|e| anyhow!(e))?;
    let (took, usage) = (started.elapsed(), usage_now());
    let cpu = cpu_before.zip(usage).map(|(a, b)| b.0 - a.0);
    let peak_mb = usage.map(|u| u.1);
    let est: Vec<f64> = cal.items.iter().map(|i| i.difficulty).collect();
    let truth: Vec<f64> = items.keys().iter().map(|&i| data.difficulties[i as usize]).collect();
    let shift = truth.iter().sum::<f64>() / truth.len() as f64; // the estimate's origin is the mean of the answered items
    let truth: Vec<f64> = truth.iter().map(|t| t - shift).collect();
    let measured: Vec<usize> = (0..persons).filter(|&p| cal.persons[p].status == Status::Measured).collect();
    let item_rmse = sim::rmse(&est, &truth);
    let mean_se = cal.items.iter().map(|i| i.se).sum::<f64>() / cal.items.len() as f64;
    let person_rmse = sim::rmse(
        &measured.iter().map(|&p| cal.persons[p].ability).collect::<Vec<_>>(),
        &measured.iter().map(|&p| data.abilities[p] - shift).collect::<Vec<_>>(),
    );
    let summary = serde_json::json!({
        "persons": persons,
        "pool": pool,
        "paper": paper,
        "seed": seed,
        "responses": obs.len(),
        "items_answered": items.len(),
        "simulate_seconds": simulated.as_secs_f64(),
        "calibrate_seconds": took.as_secs_f64(),
        "calibrate_cpu_seconds": cpu,
        "peak_rss_mb": peak_mb,
        "iterations": cal.iterations,
        "item_rmse": item_rmse,
        "item_mean_se": mean_se,
        "person_rmse": person_rmse,
        "persons_extreme": persons - measured.len(),
    });
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&summary)?)?;
    } else {
        writeln!(
            out,
            "simulated {persons} persons × {paper} items drawn from a {pool}-item pool (seed {seed}): {} responses, {} items answered, in {:.2} s\n\
             calibrated in {:.3} s ({} CPU s; {} iterations), peak resident memory {} MB\n\
             item difficulties: RMSE {item_rmse:.4} logits against the truth, mean SE {mean_se:.4}\n\
             person abilities: RMSE {person_rmse:.4} logits ({} persons with extreme scores left out)",
            obs.len(),
            items.len(),
            simulated.as_secs_f64(),
            took.as_secs_f64(),
            cpu.map_or("-".into(), |c| format!("{c:.3}")),
            cal.iterations,
            peak_mb.map_or("-".into(), |m| format!("{m:.0}")),
            persons - measured.len()
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paper_larger_than_its_pool_is_refused() {
        use super::super::args::CalibrateArgs;
        let c = |simulate: Vec<usize>| CalibrateArgs {
            file: None,
            json: false,
            anchors: None,
            target: None,
            simulate: Some(simulate),
            seed: 1,
        };
        assert!(Args::from_cli(&c(vec![10, 5, 30])).unwrap_err().contains("pool of 5"));
        assert!(Args::from_cli(&c(vec![0, 5, 3])).unwrap_err().contains("positive"));
        assert_eq!(Args::from_cli(&c(vec![10, 30, 5])).unwrap().simulate, Some((10, 30, 5)));
    }

    #[test]
    fn bad_lines_are_named() {
        let err = |t: &str| format!("{:#}", read_responses(t).err().expect("an error"));
        assert!(err("").contains("empty"), "{}", err(""));
        assert!(err("person,item\nA,1\n").contains("line 1: no \"score\" column"), "{}", err("person,item\nA,1\n"));
        assert!(err("person,item,score\nA,1,1\nA,2,1.5\n").contains("line 3: score \"1.5\" is not a number from 0 to 1"));
        assert!(err("person,item,score\nA,1,1\nA,2,-0\nB,1,x\n").contains("line 4: score \"x\""));
        assert!(
            err("person,item,score\nA,1\n").contains("line 2: 2 field(s) where the header has 3"),
            "{}",
            err("person,item,score\nA,1\n")
        );
        assert!(err("person,item,score\nA,,1\n").contains("line 2: empty item"));
        assert!(err("person,item,score\nA,1,1\nB,1,0\nA,1,0\n").contains("line 4: person \"A\" already answered item \"1\" on line 2"));
        assert!(err("person,item,score\n").contains("no responses"));
        // columns in any order, a byte-order mark, spaces and extra columns are fine
        let f = read_responses("\u{feff}Score, Item ,person,sitting\n0.5, q1 , p1,x\n1,q2,p1,x\n").unwrap();
        assert_eq!(f.obs, vec![Obs { person: 0, item: 0, score: 0.5 }, Obs { person: 0, item: 1, score: 1.0 }]);
        assert_eq!(f.items.keys(), ["q1".to_string(), "q2".to_string()]);
    }

    #[test]
    fn labels_sort_naturally() {
        let mut v = vec!["I10", "I2", "I02x", "b", "I1", "a10", "a9", "I002"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, vec!["I1", "I002", "I2", "I02x", "I10", "a9", "a10", "b"]);
    }

    #[test]
    fn disconnected_files_name_their_items() {
        let f = read_responses("person,item,score\na,x,1\na,y,0\nb,x,0\nb,y,1\nc,z,1\nc,w,0\nd,z,0\nd,w,1\n").unwrap();
        let e = rasch::calibrate(f.persons.len(), f.items.len(), &f.obs, &Options::default()).unwrap_err();
        let msg = explain(e, &f).to_string();
        assert!(msg.contains("2 groups") && msg.contains("items x, y; items z, w"), "{msg}");
    }
}
