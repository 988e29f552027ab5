//! Officer CSV import: `services::people::read_csv` (the database-free part of `import_csv`) on
//! arbitrary bytes never panics; header problems are `row 1: …`; data rows are numbered 2, 3, …;
//! every row it accepts goes through `validate` (with no units, so each row is refused before a
//! password would be hashed, but every field check runs); and the accepted rows, written back as
//! CSV, read back the same.
#![no_main]

use chrono::NaiveDate;
use lawcert::services::people::{read_csv, validate, AccountInput, CSV_COLUMNS};
use libfuzzer_sys::fuzz_target;

fn fields(a: &AccountInput) -> [&str; 13] {
    [
        &a.badge,
        &a.name,
        &a.unit,
        &a.police_type,
        &a.post,
        &a.enforcement_post,
        &a.rank,
        &a.hire_date,
        &a.is_leader,
        &a.is_legal_officer,
        &a.email,
        &a.roles,
        &a.password,
    ]
}

fuzz_target!(|data: &[u8]| {
    let rows = match read_csv(data) {
        Ok(rows) => rows,
        Err(errors) => {
            assert!(!errors.is_empty() && errors.iter().all(|e| e.starts_with("row 1: ")), "{errors:?}");
            return;
        }
    };
    for (i, (row, _)) in rows.iter().enumerate() {
        assert_eq!(*row, i + 2);
    }
    let now = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap().and_hms_opt(9, 0, 0).unwrap();
    let accepted: Vec<&AccountInput> = rows.iter().filter_map(|(_, r)| r.as_ref().ok()).collect();
    for input in &accepted {
        let errors = validate(input, &[], now).err().expect("with no units every row is refused");
        assert!(errors.iter().any(|e| e.starts_with("unit ")), "{errors:?}");
    }
    if accepted.is_empty() {
        return;
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS.split(',')).unwrap();
    for a in &accepted {
        w.write_record(fields(a)).unwrap();
    }
    let written = w.into_inner().unwrap();
    let back = read_csv(&written).unwrap_or_else(|e| panic!("the written header is refused: {e:?}"));
    assert_eq!(back.len(), accepted.len());
    for ((_, r), a) in back.iter().zip(&accepted) {
        let b = r.as_ref().unwrap_or_else(|e| panic!("a written row does not read back: {e}"));
        assert_eq!(fields(b), fields(a));
    }
});
