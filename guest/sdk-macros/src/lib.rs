//! Procedural macros of `athena-sdk`. Use them through `athena_sdk`
//! (`use athena_sdk::prelude::*;`), not directly: the generated code names
//! `::athena_sdk`, so a contract crate depends on the SDK alone.
//!
//! * [`template`] on a struct's inherent `impl` block makes the struct an
//!   Athena template: its [`callable`] methods become entry points chosen by
//!   a 4-byte selector, with SCALE-encoded arguments and results.
//! * [`selector!`] computes a selector at compile time.
//! * [`Encode`] / [`Decode`] derive the SCALE codec traits (the same
//!   encoding as `parity-scale-codec`'s derives) against
//!   `athena_sdk::codec`.
//!
//! The method ABI, the well-known methods and the generated entry point
//! are specified in `docs/sdk.md`.

#![warn(missing_docs)]

use proc_macro::TokenStream;

mod codec;
mod template;

/// Makes a struct an Athena template. Goes on the struct's inherent `impl`
/// block; methods marked [`callable`] become the program's entry points.
///
/// ```ignore
/// #[derive(Encode, Decode)]
/// pub struct Counter { step: u64 }
///
/// #[template]
/// impl Counter {
///     #[callable]
///     pub fn increment(&self, times: u64) -> u64 { /* ... */ }
/// }
/// ```
///
/// Generates, next to the `impl` block:
/// * an `athena_sdk::Template` impl: the template's name and method table
///   (name, selector, signature) for host-side use;
/// * on `riscv32`: the program's entry point (a dispatcher that reads the
///   input, matches the selector, decodes the state and the arguments,
///   calls the method and returns its SCALE-encoded result, reverting with
///   a UTF-8 message on any bad input) and a panic handler that reverts
///   with the panic message;
/// * on other targets, when compiling a binary: a `fn main()` that prints
///   the method table.
///
/// Methods take `&self` (the program's immutable state, decoded from
/// `STATE_READ`) or no receiver; `&mut self` is rejected because state is
/// fixed at spawn. `spawn`, `verify` and `max_spend` are well-known
/// methods with fixed signatures (docs/sdk.md); a template without `spawn`
/// gets a default one that accepts any state that decodes.
#[proc_macro_attribute]
pub fn template(attr: TokenStream, item: TokenStream) -> TokenStream {
    template::expand(attr.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Marks a method of a [`template`] impl block as callable by selector.
/// Only meaningful inside `#[template]`, which consumes it.
#[proc_macro_attribute]
pub fn callable(_attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut out: proc_macro2::TokenStream = syn::Error::new(
        proc_macro2::Span::call_site(),
        "#[callable] only works on methods inside an `impl` block marked #[template]",
    )
    .into_compile_error();
    out.extend(proc_macro2::TokenStream::from(item));
    out.into()
}

/// The 4-byte selector of a method name, as a `[u8; 4]` constant
/// expression: `blake3(name)[..4]`.
///
/// ```ignore
/// const INCREMENT: [u8; 4] = selector!("increment");
/// ```
#[proc_macro]
pub fn selector(input: TokenStream) -> TokenStream {
    let name = syn::parse_macro_input!(input as syn::LitStr);
    let [a, b, c, d] = template::selector_of(&name.value());
    quote::quote!([#a, #b, #c, #d]).into()
}

/// Derives `athena_sdk::codec::Encode` (and `EncodeLike`) with the SCALE
/// encoding `parity-scale-codec`'s own derive produces: fields in order;
/// enums as a variant index byte followed by the variant's fields.
/// Supports `#[codec(index = N)]` on variants, `#[codec(compact)]` and
/// `#[codec(skip)]` on fields and `#[codec(crate = path)]` on the type.
#[proc_macro_derive(Encode, attributes(codec))]
pub fn derive_encode(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    codec::derive_encode(input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Derives `athena_sdk::codec::Decode`, the inverse of [`Encode`]'s
/// encoding (skipped fields take `Default::default()`).
#[proc_macro_derive(Decode, attributes(codec))]
pub fn derive_decode(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    codec::derive_decode(input).unwrap_or_else(syn::Error::into_compile_error).into()
}
