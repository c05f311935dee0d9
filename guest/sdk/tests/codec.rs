//! athena-sdk's `Encode`/`Decode` derives must produce exactly the bytes of
//! `parity-scale-codec`'s own derives: hosts (tests, wallets, the testkit)
//! encode arguments and state with parity's, guests decode with ours.
//! Each type below exists twice, once per derive, with the same shape.

use parity_scale_codec::{Decode as _, DecodeAll, Encode as _};

/// The shapes under test, declared once and derived by whichever
/// `Encode`/`Decode` the invoking module imports, with `$address` as the
/// address type (the SDK's newtype or parity's view of it, `[u8; 24]`).
macro_rules! shapes {
    ($address:ty) => {
        #[derive(Encode, Decode, Debug, PartialEq, Clone)]
        pub struct Unit;

        #[derive(Encode, Decode, Debug, PartialEq, Clone)]
        pub struct Tuple(pub u8, pub Vec<u16>);

        #[derive(Encode, Decode, Debug, PartialEq, Clone)]
        pub struct Named {
            pub a: u64,
            pub owner: $address,
            pub name: String,
            pub maybe: Option<(u32, bool)>,
            #[codec(compact)]
            pub small: u128,
            #[codec(skip)]
            pub skipped: u32,
            pub nested: Tuple,
        }

        #[derive(Encode, Decode, Debug, PartialEq, Clone)]
        pub enum Kind {
            Empty,
            One(u32),
            Two {
                x: u8,
                y: Vec<u8>,
            },
            #[codec(index = 9)]
            Nine,
        }

        #[derive(Encode, Decode, Debug, PartialEq, Clone)]
        pub enum Fieldless {
            A,
            B = 20,
            C,
        }

        #[derive(Encode, Decode, Debug, PartialEq, Clone)]
        pub struct Generic<T> {
            pub items: Vec<T>,
            #[codec(compact)]
            pub count: u32,
        }
    };
}

mod ours {
    use athena_sdk::{Address, Decode, Encode};

    shapes!(Address);

    #[derive(Encode, Decode, Debug, PartialEq, Clone)]
    pub enum Never {}
}

mod theirs {
    use parity_scale_codec::{Decode, Encode};

    shapes!([u8; 24]);
}

/// Encodes `a` (ours) and `b` (theirs), checks the bytes agree and that
/// each side decodes the other's bytes back.
fn same<A, B>(a: &A, b: &B)
where
    A: parity_scale_codec::Encode + parity_scale_codec::Decode + PartialEq + std::fmt::Debug,
    B: parity_scale_codec::Encode + parity_scale_codec::Decode + PartialEq + std::fmt::Debug,
{
    let bytes = a.encode();
    assert_eq!(bytes, b.encode(), "{a:?} vs {b:?}");
    assert_eq!(a.size_hint(), b.size_hint(), "size hint of {a:?}");
    assert_eq!(&A::decode_all(&mut bytes.as_slice()).unwrap(), a);
    assert_eq!(&B::decode_all(&mut bytes.as_slice()).unwrap(), b);
}

#[test]
fn structs_match_parity() {
    same(&ours::Unit, &theirs::Unit);
    assert!(ours::Unit.encode().is_empty());
    same(&ours::Tuple(7, vec![1, 2, 300]), &theirs::Tuple(7, vec![1, 2, 300]));
    let owner = [9u8; 24];
    let named = ours::Named {
        a: u64::MAX - 3,
        owner: athena_sdk::Address(owner),
        name: "héllo".into(),
        maybe: Some((5, true)),
        small: 1 << 70,
        skipped: 0,
        nested: ours::Tuple(1, vec![]),
    };
    let theirs = theirs::Named {
        a: u64::MAX - 3,
        owner,
        name: "héllo".into(),
        maybe: Some((5, true)),
        small: 1 << 70,
        skipped: 0,
        nested: theirs::Tuple(1, vec![]),
    };
    same(&named, &theirs);
    // Skipped fields are not encoded and decode as the default.
    let with_skipped = ours::Named { skipped: 77, ..named.clone() };
    assert_eq!(with_skipped.encode(), named.encode());
    same(
        &ours::Generic { items: vec![ours::Tuple(1, vec![2])], count: 3 },
        &theirs::Generic { items: vec![theirs::Tuple(1, vec![2])], count: 3 },
    );
}

#[test]
fn enums_match_parity() {
    same(&ours::Kind::Empty, &theirs::Kind::Empty);
    same(&ours::Kind::One(0xdead_beef), &theirs::Kind::One(0xdead_beef));
    same(&ours::Kind::Two { x: 3, y: vec![4, 5] }, &theirs::Kind::Two { x: 3, y: vec![4, 5] });
    same(&ours::Kind::Nine, &theirs::Kind::Nine);
    assert_eq!(ours::Kind::Nine.encode(), [9]);
    for (a, b) in [
        (ours::Fieldless::A, theirs::Fieldless::A),
        (ours::Fieldless::B, theirs::Fieldless::B),
        (ours::Fieldless::C, theirs::Fieldless::C),
    ] {
        same(&a, &b);
    }
    assert_eq!(ours::Fieldless::B.encode(), [20]);
    assert_eq!(ours::Fieldless::C.encode(), [2], "the position, as parity does");
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    assert!(ours::Kind::decode(&mut &[42u8][..]).is_err(), "unknown variant");
    assert!(ours::Kind::decode(&mut &[][..]).is_err(), "empty");
    assert!(ours::Tuple::decode(&mut &[1u8, 8, 0][..]).is_err(), "truncated vec");
    assert!(ours::Never::decode(&mut &[0u8][..]).is_err());
    assert!(ours::Tuple::decode_all(&mut &[1u8, 0, 0][..]).is_err(), "trailing byte");
}

#[test]
fn prelude_derives_and_traits_coexist() {
    use athena_sdk::prelude::*;
    #[derive(Encode, Decode, PartialEq, Debug)]
    struct Local {
        v: Vec<Address>,
    }
    let local = Local { v: vec![Address([1; 24])] };
    assert_eq!(Local::decode(&mut local.encode().as_slice()).unwrap(), local);
}
