//! The Pareto front against a brute-force definition written differently, and a checker that is shown
//! to catch a planted dominated point and a dropped front member.

use accelc::explore::pareto;
use accelc::rng::SplitMix64;

/// Brute force: i is on the front iff no point differs from it and is no worse anywhere
/// (integer objectives, so "differs and no worse" is exactly "dominates").
fn brute_front(objs: &[[i64; 3]]) -> Vec<usize> {
    (0..objs.len())
        .filter(|&i| !objs.iter().any(|o| o != &objs[i] && (0..3).all(|d| o[d] <= objs[i][d])))
        .collect()
}

/// Checks a claimed front: every member is undominated and every non-member is dominated.
fn check_front(objs: &[[i64; 3]], claimed: &[usize]) -> Result<(), String> {
    for i in 0..objs.len() {
        let dominated_by = objs.iter().position(|o| o != &objs[i] && (0..3).all(|d| o[d] <= objs[i][d]));
        match (claimed.contains(&i), dominated_by) {
            (true, Some(j)) => {
                return Err(format!("point {i} {:?} is dominated by {j} {:?}", objs[i], objs[j]))
            }
            (false, None) => return Err(format!("point {i} {:?} is undominated but missing", objs[i])),
            _ => {}
        }
    }
    Ok(())
}

fn as_f64(objs: &[[i64; 3]]) -> Vec<[f64; 3]> {
    objs.iter().map(|o| o.map(|x| x as f64)).collect()
}

fn random_objs(seed: u64, n: usize, spread: i64) -> Vec<[i64; 3]> {
    let mut rng = SplitMix64::new(seed);
    (0..n).map(|_| [0; 3].map(|_| rng.range_i64(1, spread))).collect()
}

#[test]
fn front_matches_brute_force_on_random_sets_with_ties() {
    for seed in 0..300 {
        // Small spreads make many ties and duplicates.
        let objs = random_objs(seed, 1 + (seed as usize % 40), 2 + (seed as i64 % 9));
        let mut got = pareto::front(&as_f64(&objs));
        got.sort();
        assert_eq!(got, brute_front(&objs), "seed {seed}: {objs:?}");
        check_front(&objs, &got).unwrap();
    }
}

#[test]
fn front_is_ordered_by_cycles() {
    let objs = [[5, 1, 1], [1, 5, 5], [3, 3, 3], [4, 4, 4]];
    assert_eq!(pareto::front(&as_f64(&objs)), [1, 2, 0]);
}

#[test]
fn equal_points_are_both_kept_and_a_worse_copy_is_dropped() {
    let objs = [[2, 2, 2], [2, 2, 2], [2, 2, 3], [1, 9, 9]];
    let mut got = pareto::front(&as_f64(&objs));
    got.sort();
    assert_eq!(got, [0, 1, 3]);
}

#[test]
fn the_checker_catches_a_planted_dominated_point_and_a_dropped_member() {
    let mut objs = random_objs(7, 30, 20);
    let front = pareto::front(&as_f64(&objs));
    check_front(&objs, &front).unwrap();
    // Plant a copy of a front member that is one cycle slower: it must not be on the front...
    let planted = objs.len();
    objs.push([objs[front[0]][0] + 1, objs[front[0]][1], objs[front[0]][2]]);
    let new_front = pareto::front(&as_f64(&objs));
    assert!(!new_front.contains(&planted));
    // ...and a front that claims it is caught.
    let mut wrong = new_front.clone();
    wrong.push(planted);
    assert!(check_front(&objs, &wrong).unwrap_err().contains("is dominated"));
    // A front missing a member is caught too.
    let missing = &new_front[1..];
    assert!(check_front(&objs, missing).unwrap_err().contains("missing"));
}
