//! Case-evaluation CSV (`services::remedial::parse_case_csv`): arbitrary text never panics;
//! every error names a line; accepted rows have YYYY-MM months, deductions of 0–100 points in
//! hundredths, line numbers 2, 3, … and no repeated (badge, month, case) triple.
#![no_main]

use lawcert::services::remedial::parse_case_csv;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse_case_csv(text) {
        Err(errors) => assert!(!errors.is_empty() && errors.iter().all(|e| e.starts_with("line ") || e == "the file has no rows"), "{errors:?}"),
        Ok(rows) => {
            assert!(!rows.is_empty());
            let mut seen = std::collections::HashSet::new();
            for (i, r) in rows.iter().enumerate() {
                assert_eq!(r.line, i + 2);
                assert!(r.month.len() == 7 && r.month.as_bytes()[4] == b'-', "{}", r.month);
                assert!((0..=10_000).contains(&r.deduction_centi), "{}", r.deduction_centi);
                assert!(!r.badge.is_empty() && !r.case_ref.is_empty());
                assert!(seen.insert((r.badge.clone(), r.month.clone(), r.case_ref.clone())));
            }
        }
    }
});
