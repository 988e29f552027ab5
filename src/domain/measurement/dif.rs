//! Differential item functioning by Mantel–Haenszel (Holland & Thayer 1988), with the ETS
//! A/B/C categories (Zwick 2012).
//!
//! Candidates of a reference and a focal group (e.g. two 警种, or two units) are matched on
//! ability strata; within each stratum k the 2×2 table is
//!
//! |           | right | wrong | total |
//! |-----------|-------|-------|-------|
//! | reference | A_k   | B_k   | n_Rk  |
//! | focal     | C_k   | D_k   | n_Fk  |
//!
//! * α_MH = Σ(A_k D_k / N_k) / Σ(B_k C_k / N_k): the common odds ratio (reference : focal);
//! * MH D-DIF = -2.35 ln α_MH on the ETS delta scale (negative: the item is harder for the
//!   focal group than for reference candidates of the same ability);
//! * its standard error from the Robins–Breslow–Greenland variance of ln α_MH;
//! * MH χ² = (|Σ A_k - Σ E(A_k)| - ½)² / Σ Var(A_k), with E(A_k) = n_Rk m_1k / N_k and
//!   Var(A_k) = n_Rk n_Fk m_1k m_0k / (N_k² (N_k - 1)), one degree of freedom;
//! * category A when |D| < 1 or χ² is not significant at 5% (< 3.841); C when |D| ≥ 1.5 and
//!   |D| is significantly above 1 (one-sided 5%: (|D| - 1) / SE > 1.645); B otherwise.
//!
//! * when α_MH is 0 or infinite (in the used strata one group answered every time right, or
//!   every time wrong, where the other did not), D-DIF is infinite and has no standard error:
//!   the item is category C when χ² is significant (the most extreme DIF there is, to be
//!   reviewed) and A otherwise.
//!
//! Pool-drawn papers differ, so raw totals do not match candidates: strata are bands of the
//! calibrated ability ([`ability_stratum`]). Responses are right/wrong: a partial-credit item
//! counts as right only at full credit (the caller decides). Strata with fewer than two
//! candidates, or without both groups, carry no information and are left out.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Group {
    Reference,
    Focal,
}

/// One candidate's response to the item: matching stratum, group, right or wrong.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DifResponse {
    pub stratum: i64,
    pub group: Group,
    pub right: bool,
}

/// Stratum of an ability for matching: bands `width` logits wide (0.5 is usual).
pub fn ability_stratum(theta: f64, width: f64) -> i64 {
    (theta / width).floor() as i64
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum EtsCategory {
    /// Negligible.
    A,
    /// Slight to moderate.
    B,
    /// Moderate to large: review the item.
    C,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MantelHaenszel {
    pub reference: usize,
    pub focal: usize,
    /// Strata used (both groups present, at least two candidates).
    pub strata: usize,
    /// None when undefined (a group never right or never wrong in the used strata).
    pub odds_ratio: Option<f64>,
    pub d_dif: Option<f64>,
    pub se: Option<f64>,
    pub chi_square: Option<f64>,
    /// None when either group has fewer than `min_group` candidates or D-DIF is undefined.
    pub category: Option<EtsCategory>,
    /// Sign of D-DIF when not category A: "reference" (item harder for the focal group) or
    /// "focal".
    pub favours: Option<Group>,
}

impl MantelHaenszel {
    pub fn flagged(&self) -> bool {
        self.category == Some(EtsCategory::C)
    }
}

/// Mantel–Haenszel DIF of one item; `min_group` is the smallest group (reference and focal,
/// in the used strata) for which a category is given.
pub fn mantel_haenszel(responses: &[DifResponse], min_group: usize) -> MantelHaenszel {
    // stratum → [A, B, C, D]
    let mut tables: std::collections::BTreeMap<i64, [f64; 4]> = Default::default();
    for r in responses {
        let t = tables.entry(r.stratum).or_default();
        let k = match (r.group, r.right) {
            (Group::Reference, true) => 0,
            (Group::Reference, false) => 1,
            (Group::Focal, true) => 2,
            (Group::Focal, false) => 3,
        };
        t[k] += 1.0;
    }
    let (mut r_sum, mut s_sum, mut pr, mut ps_qr, mut qs) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut a_sum, mut e_sum, mut v_sum) = (0.0, 0.0, 0.0);
    let (mut n_ref, mut n_foc, mut strata) = (0.0, 0.0, 0);
    for [a, b, c, d] in tables.into_values() {
        let (nr, nf) = (a + b, c + d);
        let n = nr + nf;
        if nr == 0.0 || nf == 0.0 || n < 2.0 {
            continue;
        }
        strata += 1;
        n_ref += nr;
        n_foc += nf;
        let (rk, sk) = (a * d / n, b * c / n);
        let (pk, qk) = ((a + d) / n, (b + c) / n);
        r_sum += rk;
        s_sum += sk;
        pr += pk * rk;
        ps_qr += pk * sk + qk * rk;
        qs += qk * sk;
        let (m1, m0) = (a + c, b + d);
        a_sum += a;
        e_sum += nr * m1 / n;
        v_sum += nr * nf * m1 * m0 / (n * n * (n - 1.0));
    }
    let defined = r_sum > 0.0 && s_sum > 0.0;
    let odds_ratio = defined.then(|| r_sum / s_sum);
    let d_dif = odds_ratio.map(|a| -2.35 * a.ln());
    let se = defined.then(|| {
        let var = pr / (2.0 * r_sum * r_sum) + ps_qr / (2.0 * r_sum * s_sum) + qs / (2.0 * s_sum * s_sum);
        2.35 * var.sqrt()
    });
    let chi_square = (v_sum > 0.0).then(|| ((a_sum - e_sum).abs() - 0.5).max(0.0).powi(2) / v_sum);
    let enough = n_ref as usize >= min_group && n_foc as usize >= min_group;
    // α_MH is 0 or infinite: one of the sums is 0 while the other is not
    let unbounded = !defined && (r_sum > 0.0 || s_sum > 0.0);
    let category = match (d_dif, se, chi_square) {
        (Some(d), Some(se), Some(chi)) if enough => Some(if d.abs() < 1.0 || chi < 3.841 {
            EtsCategory::A
        } else if d.abs() >= 1.5 && (d.abs() - 1.0) / se > 1.645 {
            EtsCategory::C
        } else {
            EtsCategory::B
        }),
        (None, _, Some(chi)) if enough && unbounded => Some(if chi < 3.841 { EtsCategory::A } else { EtsCategory::C }),
        _ => None,
    };
    let favours = match (category, d_dif) {
        (Some(EtsCategory::B | EtsCategory::C), Some(d)) => Some(if d < 0.0 { Group::Reference } else { Group::Focal }),
        // reference candidates right more often than expected: the item is harder for the focal group
        (Some(EtsCategory::C), None) => Some(if a_sum > e_sum { Group::Reference } else { Group::Focal }),
        _ => None,
    };
    MantelHaenszel { reference: n_ref as usize, focal: n_foc as usize, strata, odds_ratio, d_dif, se, chi_square, category, favours }
}
