//! The system model against plain convolution + requantization (`system::reference`), and its
//! timing invariants: every job's words leave in order with tlast on each job's last word, the run
//! ends with DONE, errors are reported and drained.

use accelc::config::Config;
use accelc::model::system::{run, SystemRun};
use accelc::rng::SplitMix64;
use accelc::system::cases::{self, Pacing};
use accelc::system::layout::{unpack_output, ConvJob};
use accelc::system::{reference, SystemParams};

/// The engines: output- and weight-stationary MAC arrays, and SAC arrays.
const DATAFLOWS: [&str; 3] = ["output_stationary", "weight_stationary", "sac"];

/// The `[pe]` table and array extras of an engine.
fn pe_table(engine: &str, cols: u32) -> String {
    match engine {
        "sac" => {
            // KS = C; a CSD word with its flags (34 bits at C = 4) needs an 8-byte stream word
            let encoding = if cols >= 8 { "csd" } else { "sign_magnitude" };
            format!("kind = \"sac\"\nkneading_stride = {cols}\nencoding = \"{encoding}\"\n")
        }
        _ => "kind = \"mac\"\n".into(),
    }
}

fn system(rows: u32, cols: u32, engine: &str) -> (SystemParams, u32) {
    let pe = pe_table(engine, cols);
    let dataflow = if engine == "sac" { "output_stationary" } else { engine };
    let extra = if engine == "sac" { "act_buffer_groups = 2\n" } else { "" };
    let text = format!(
        "name = \"sys\"\n[array]\nrows = {rows}\ncols = {cols}\ndataflow = \"{dataflow}\"\n{extra}\
         [pe]\n{pe}weight_bits = 8\nact_bits = 8\nacc_bits = 32\n\
         [system]\nstream_bits = {}\nact_words = 1024\nweight_words = 4096\nparam_tiles = 8\nout_words = {}\n",
        cols * 8,
        rows * 4
    );
    let c: Config = toml::from_str(&text).unwrap();
    (SystemParams::of(&c).unwrap(), 32)
}

fn run_jobs(sp: &SystemParams, jobs: &[ConvJob], pacing: Pacing, seed: u64) -> SystemRun {
    let mut rng = SplitMix64::new(seed);
    let stim = cases::stimulus(sp, jobs, pacing, &mut rng);
    run(sp, 32, &stim, 10_000_000).expect("the model finishes")
}

fn check_outputs(sp: &SystemParams, jobs: &[ConvJob], r: &SystemRun) {
    assert_eq!(r.regs.error, 0);
    let mut at = 0;
    for (i, job) in jobs.iter().enumerate() {
        let n = job.desc.shape(sp).out_words;
        let words: Vec<_> = r.outputs[at..at + n].iter().map(|o| o.word.clone()).collect();
        assert!(r.outputs[at..at + n - 1].iter().all(|o| !o.last), "job {i}: tlast before its last word");
        assert!(r.outputs[at + n - 1].last, "job {i}: no tlast on its last word");
        assert_eq!(unpack_output(sp, &job.desc, &words), reference::conv(job), "job {i}: {:?}", job.desc);
        at += n;
    }
    assert_eq!(at, r.outputs.len());
    assert_eq!(r.regs.jobs_done as usize, jobs.len());
    assert_eq!(r.regs.cycles, r.done_edge - r.start_edge);
}

#[test]
fn random_jobs_match_plain_convolution() {
    for (rows, cols, dataflow) in
        [(2, 4), (4, 4), (4, 8), (8, 8)].into_iter().flat_map(|(r, c)| DATAFLOWS.map(|d| (r, c, d)))
    {
        let (sp, _) = system(rows, cols, dataflow);
        let mut rng = SplitMix64::new(7 + rows as u64 * 13 + cols as u64);
        for case in 0..12 {
            let mut jobs = vec![cases::random_job(&sp, &mut rng, None)];
            for _ in 0..case % 3 {
                let reuse = rng.pick(2) == 0;
                let prev = jobs.last().unwrap().clone();
                jobs.push(cases::random_job(&sp, &mut rng, reuse.then_some(&prev)));
            }
            cases::mark_last(&mut jobs);
            let pacing = if case % 2 == 0 { Pacing::FULL_SPEED } else { Pacing::RANDOM };
            let r = run_jobs(&sp, &jobs, pacing, case as u64);
            check_outputs(&sp, &jobs, &r);
        }
    }
}

#[test]
fn a_long_reduction_keeps_the_array_busy() {
    for dataflow in DATAFLOWS {
        long_reduction(dataflow);
    }
}

fn long_reduction(dataflow: &str) {
    let (sp, _) = system(8, 8, dataflow);
    let mut rng = SplitMix64::new(3);
    let g = cases::Geometry { k: (3, 3), stride: (1, 1), dil: (1, 1), pad: (1, 1) };
    let desc = cases::conv_descriptor((8, 8, 16), 16, &g, accelc::system::descriptor::FLAG_LOAD_WEIGHTS, 0);
    let s = desc.shape(&sp);
    let job = ConvJob {
        desc,
        x: cases::random_tensor3(&mut rng, (8, 8, 16)),
        w: cases::random_weights(&sp, &mut rng, (16, 3, 3, 16)),
        requant: cases::random_requant(&mut rng, 16, s.k(8)),
    };
    let mut jobs = vec![job];
    cases::mark_last(&mut jobs);
    let r = run_jobs(&sp, &jobs, Pacing::FULL_SPEED, 1);
    check_outputs(&sp, &jobs, &r);
    let compute = sp.array_beats(&s) as u64;
    let first_out = r.outputs[0].edge;
    let load = r.taken_at.last().unwrap() - r.start_edge;
    eprintln!(
        "{dataflow}: cycles {} load {} compute {} first out {}",
        r.regs.cycles, load, compute, first_out
    );
    // loading is not overlapped for a single job; compute after the load stays within 5% of ideal
    assert!(r.regs.cycles - load < compute + compute / 20 + 64, "compute phase too slow");
}

#[test]
fn a_layer_split_into_bands_and_channel_groups_equals_the_whole_convolution() {
    // small banks force several bands and groups
    for dataflow in DATAFLOWS {
        split_layer(dataflow);
    }
}

fn split_layer(engine: &str) {
    use accelc::system::plan::{assemble, plan_layer};
    let pe = pe_table(engine, 4);
    let dataflow = if engine == "sac" { "output_stationary" } else { engine };
    let text = format!(
        "name = \"sys\"\n[array]\nrows = 4\ncols = 4\ndataflow = \"{dataflow}\"\n\
         [pe]\n{pe}weight_bits = 8\nact_bits = 8\nacc_bits = 32\n\
         [system]\nstream_bits = 32\nact_words = 256\nweight_words = 512\nparam_tiles = 2\nout_words = 16\n"
    );
    let sp = SystemParams::of(&toml::from_str(&text).unwrap()).unwrap();
    let mut rng = SplitMix64::new(9);
    for (h, w, in_c, out_c, g) in [
        (20, 9, 6, 19, cases::Geometry { k: (3, 3), stride: (1, 1), dil: (1, 1), pad: (1, 1) }),
        (23, 7, 5, 9, cases::Geometry { k: (3, 3), stride: (2, 2), dil: (1, 1), pad: (1, 1) }),
        (17, 5, 4, 12, cases::Geometry { k: (3, 1), stride: (1, 1), dil: (2, 1), pad: (2, 0) }),
        (30, 6, 8, 8, cases::Geometry { k: (1, 1), stride: (1, 1), dil: (1, 1), pad: (0, 0) }),
    ] {
        let x = cases::random_tensor3(&mut rng, (h, w, in_c));
        let wt = cases::random_weights(&sp, &mut rng, (out_c, g.k.0, g.k.1, in_c));
        let rq = cases::random_requant(&mut rng, out_c, g.k.0 * g.k.1 * in_c);
        let plan = plan_layer(&sp, &x, &wt, &rq, &g, 3, true).unwrap();
        assert!(plan.len() >= 2, "the banks should force a split");
        let jobs: Vec<ConvJob> = plan.iter().map(|p| p.job.clone()).collect();
        let r = run_jobs(&sp, &jobs, Pacing::RANDOM, 4);
        check_outputs(&sp, &jobs, &r);
        let mut at = 0;
        let outs: Vec<_> = jobs
            .iter()
            .map(|j| {
                let n = j.desc.shape(&sp).out_words;
                let words: Vec<_> = r.outputs[at..at + n].iter().map(|o| o.word.clone()).collect();
                at += n;
                unpack_output(&sp, &j.desc, &words)
            })
            .collect();
        let (oh, ow) = g.out_hw(h, w);
        let whole = ConvJob {
            desc: cases::conv_descriptor((h, w, in_c), out_c, &g, 1, 3),
            x: x.clone(),
            w: wt.clone(),
            requant: rq.clone(),
        };
        let mut whole = whole;
        whole.desc.flags = accelc::system::descriptor::FLAG_RELU;
        let y = assemble(&plan, &outs, out_c);
        assert_eq!(y.dim(), (oh, ow, out_c));
        assert_eq!(y, reference::conv(&whole), "{h}x{w}x{in_c} -> {out_c} {g:?}: {} jobs", plan.len());
    }
}

#[test]
fn the_readme_documents_every_register_error_and_descriptor_field() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for r in accelc::system::regs::REGISTERS {
        let row = format!("| `0x{:02X}` | {} |", r.offset, r.name);
        assert!(readme.contains(&row), "README has no register row {row}");
    }
    for e in accelc::system::JobError::ALL {
        let text = format!("{} {}", e.code(), e.name());
        assert!(readme.contains(&text), "README does not name error {text}");
    }
    for f in accelc::system::descriptor::FIELDS {
        assert!(
            f.name.starts_with("reserved") || readme.contains(f.name),
            "README has no descriptor field {}",
            f.name
        );
    }
}
