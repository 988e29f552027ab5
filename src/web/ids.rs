//! The typed ids (`domain::ids`) in URLs and forms: each reads as its integer, and refuses
//! what `i64` refuses, so routes and their answers to bad input are as with bare integers.

use rocket::form::{self, FromFormField, ValueField};
use rocket::request::FromParam;

macro_rules! web_id {
    ($name:ident) => {
        impl<'a> FromParam<'a> for $crate::domain::ids::$name {
            type Error = <i64 as FromParam<'a>>::Error;
            fn from_param(param: &'a str) -> Result<Self, Self::Error> {
                i64::from_param(param).map(Self)
            }
        }

        impl<'v> FromFormField<'v> for $crate::domain::ids::$name {
            fn from_value(field: ValueField<'v>) -> form::Result<'v, Self> {
                i64::from_value(field).map(Self)
            }
        }
    };
}

crate::for_each_id!(web_id);

#[cfg(test)]
mod tests {
    use rocket::form::Form;
    use rocket::request::FromParam;

    use crate::domain::ids::{AttemptId, UserId, VersionId};

    #[test]
    fn an_id_reads_from_a_path_segment_as_its_integer() {
        assert_eq!(AttemptId::from_param("42").unwrap(), AttemptId(42));
        assert_eq!(AttemptId::from_param("-1").unwrap(), AttemptId(-1));
        assert!(AttemptId::from_param("4x").is_err());
        assert!(AttemptId::from_param("99999999999999999999").is_err());
    }

    #[derive(rocket::FromForm, Debug, PartialEq)]
    struct Pick {
        user: UserId,
        versions: Vec<VersionId>,
        unit: Option<UserId>,
    }

    #[test]
    fn an_id_reads_from_a_form_field_as_its_integer() {
        let pick: Pick = Form::parse("user=5&versions=9&versions=10").unwrap();
        assert_eq!(pick, Pick { user: UserId(5), versions: vec![VersionId(9), VersionId(10)], unit: None });
        assert!(Form::<Pick>::parse("user=five").is_err());
    }
}
