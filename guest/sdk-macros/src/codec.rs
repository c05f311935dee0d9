//! `#[derive(Encode, Decode)]` for the SCALE codec.
//!
//! Why not re-export `parity-scale-codec`'s derives: they find the codec
//! crate by reading the *user's* `Cargo.toml` (`proc-macro-crate`), so a
//! contract crate would need its own `parity-scale-codec` dependency line.
//! These derives name the codec through `::athena_sdk::codec` instead and
//! produce the same encoding for the supported subset:
//!
//! * structs (named, tuple, unit): the fields in declaration order;
//! * enums: one index byte, then the variant's fields. The index is
//!   `#[codec(index = N)]` if given, else the explicit discriminant
//!   (`A = 3`), else the variant's position (as `parity-scale-codec`);
//! * field attributes `#[codec(compact)]` (encode as `Compact<T>`) and
//!   `#[codec(skip)]` (not encoded; `Default::default()` when decoding);
//! * `#[codec(crate = path)]` on the type overrides the codec path.
//!
//! Every type parameter gets an `Encode` (resp. `Decode`) bound. Anything
//! else parity's derive accepts is a compile error here, pointing to the
//! workaround (depend on `parity-scale-codec` with its `derive` feature).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Error, Expr, Fields, Path, Result};

/// What `#[codec(...)]` on a field asks for.
#[derive(Default)]
struct FieldAttrs {
    compact: bool,
    skip: bool,
}

/// Reads the `#[codec(...)]` attributes of a field.
fn field_attrs(attrs: &[syn::Attribute]) -> Result<FieldAttrs> {
    let mut out = FieldAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("codec")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("compact") {
                out.compact = true;
            } else if meta.path.is_ident("skip") {
                out.skip = true;
            } else {
                return Err(meta.error(unsupported("this field attribute")));
            }
            Ok(())
        })?;
    }
    if out.compact && out.skip {
        return Err(Error::new(Span::call_site(), "a field cannot be both #[codec(compact)] and #[codec(skip)]"));
    }
    Ok(out)
}

/// Reads `#[codec(index = N)]` of a variant.
fn variant_index_attr(attrs: &[syn::Attribute]) -> Result<Option<syn::LitInt>> {
    let mut index = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("codec")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("index") {
                index = Some(meta.value()?.parse::<syn::LitInt>()?);
                Ok(())
            } else {
                Err(meta.error(unsupported("this variant attribute")))
            }
        })?;
    }
    Ok(index)
}

/// The codec path: `#[codec(crate = path)]` or `::athena_sdk::codec`.
fn crate_path(attrs: &[syn::Attribute]) -> Result<Path> {
    let mut path = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("codec")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                path = Some(meta.value()?.parse::<Path>()?);
                Ok(())
            } else {
                Err(meta.error(unsupported("this container attribute")))
            }
        })?;
    }
    Ok(path.unwrap_or_else(|| syn::parse_quote!(::athena_sdk::codec)))
}

fn unsupported(what: &str) -> String {
    format!(
        "{what} is not supported by athena-sdk's SCALE derive (supported: `index` on variants, `compact` and \
         `skip` on fields, `crate` on the type); for more, depend on parity-scale-codec with its `derive` feature"
    )
}

/// `impl` generics with `bound` added to every type parameter.
fn bounded_generics(input: &DeriveInput, bound: &Path) -> syn::Generics {
    let mut generics = input.generics.clone();
    for param in generics.type_params_mut() {
        param.bounds.push(syn::parse_quote!(#bound));
    }
    generics
}

/// The variants of an enum with their index expressions, checking that
/// literal indexes are unique and fit a byte.
fn variant_indexes(data: &syn::DataEnum) -> Result<Vec<(&syn::Variant, TokenStream)>> {
    if data.variants.len() > 256 {
        return Err(Error::new(Span::call_site(), "SCALE enums have at most 256 variants"));
    }
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for (position, variant) in data.variants.iter().enumerate() {
        let index = match (variant_index_attr(&variant.attrs)?, &variant.discriminant) {
            (Some(lit), _) => {
                let value: u8 = lit.base10_parse()?;
                seen.push((value, variant.span()));
                quote!(#value)
            }
            (None, Some((_, expr))) => {
                if let Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(lit), .. }) = expr {
                    seen.push((lit.base10_parse::<u8>()?, variant.span()));
                }
                quote!(((#expr) as ::core::primitive::u8))
            }
            (None, None) => {
                let value = position as u8;
                seen.push((value, variant.span()));
                quote!(#value)
            }
        };
        out.push((variant, index));
    }
    for (i, (value, span)) in seen.iter().enumerate() {
        if seen[..i].iter().any(|(v, _)| v == value) {
            return Err(Error::new(*span, format!("two variants have the SCALE index {value}")));
        }
    }
    Ok(out)
}

/// Names for the fields of a pattern: the field names, or `__f0, __f1, ..`.
fn binding_names(fields: &Fields) -> Vec<syn::Ident> {
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| f.ident.clone().map_or_else(|| format_ident!("__f{}", i), |id| format_ident!("__{}", id)))
        .collect()
}

/// A pattern binding every field of `fields` (after `path`) to its binding name.
fn pattern(path: TokenStream, fields: &Fields, names: &[syn::Ident]) -> TokenStream {
    match fields {
        Fields::Named(named) => {
            let idents = named.named.iter().map(|f| &f.ident);
            quote!(#path { #(#idents: #names),* })
        }
        Fields::Unnamed(_) => quote!(#path ( #(#names),* )),
        Fields::Unit => path,
    }
}

/// Statements encoding each non-skipped field (bound to `names`) into `__dest`,
/// and the size-hint terms.
fn encode_fields(codec: &Path, fields: &Fields, names: &[syn::Ident]) -> Result<(TokenStream, TokenStream)> {
    let mut stmts = TokenStream::new();
    let mut hint = TokenStream::new();
    for (field, name) in fields.iter().zip(names) {
        let attrs = field_attrs(&field.attrs)?;
        let ty = &field.ty;
        if attrs.skip {
            continue;
        }
        if attrs.compact {
            let as_compact = quote! {
                <<#ty as #codec::HasCompact>::Type as #codec::EncodeAsRef<'_, #ty>>::RefType::from(#name)
            };
            stmts.extend(quote!(#codec::Encode::encode_to(&#as_compact, __dest);));
            hint.extend(quote!(+ #codec::Encode::size_hint(&#as_compact)));
        } else {
            stmts.extend(quote!(#codec::Encode::encode_to(#name, __dest);));
            hint.extend(quote!(+ #codec::Encode::size_hint(#name)));
        }
    }
    Ok((stmts, hint))
}

/// The body of `decode`'s constructor for `fields`: `path { f: decode?, ... }`.
fn decode_fields(codec: &Path, path: TokenStream, fields: &Fields) -> Result<TokenStream> {
    let mut values = Vec::new();
    for field in fields.iter() {
        let attrs = field_attrs(&field.attrs)?;
        let ty = &field.ty;
        values.push(if attrs.skip {
            quote!(::core::default::Default::default())
        } else if attrs.compact {
            quote!(::core::convert::Into::into(<<#ty as #codec::HasCompact>::Type as #codec::Decode>::decode(__input)?))
        } else {
            quote!(<#ty as #codec::Decode>::decode(__input)?)
        });
    }
    Ok(match fields {
        Fields::Named(named) => {
            let idents = named.named.iter().map(|f| &f.ident);
            quote!(#path { #(#idents: #values),* })
        }
        Fields::Unnamed(_) => quote!(#path ( #(#values),* )),
        Fields::Unit => path,
    })
}

/// `#[derive(Encode)]`.
pub fn derive_encode(input: DeriveInput) -> Result<TokenStream> {
    let codec = crate_path(&input.attrs)?;
    let name = &input.ident;
    let generics = bounded_generics(&input, &syn::parse_quote!(#codec::Encode));
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let (body, hint) = match &input.data {
        Data::Struct(data) => {
            let names = binding_names(&data.fields);
            let pat = pattern(quote!(Self), &data.fields, &names);
            let (stmts, hint) = encode_fields(&codec, &data.fields, &names)?;
            (quote!(let #pat = self; #stmts), quote!(let #pat = self; 0 #hint))
        }
        Data::Enum(data) if data.variants.is_empty() => (quote!(match *self {}), quote!(match *self {})),
        Data::Enum(data) => {
            let mut arms = TokenStream::new();
            let mut hint_arms = TokenStream::new();
            for (variant, index) in variant_indexes(data)? {
                let ident = &variant.ident;
                let names = binding_names(&variant.fields);
                let pat = pattern(quote!(Self::#ident), &variant.fields, &names);
                let (stmts, hint) = encode_fields(&codec, &variant.fields, &names)?;
                arms.extend(quote!(#pat => { #codec::Output::push_byte(__dest, #index); #stmts } ));
                hint_arms.extend(quote!(#pat => 1 #hint,));
            }
            (quote!(match self { #arms }), quote!(match self { #hint_arms }))
        }
        Data::Union(u) => return Err(Error::new(u.union_token.span, "SCALE cannot derive Encode for a union")),
    };
    Ok(quote! {
        #[automatically_derived]
        #[allow(unused_variables, clippy::all)]
        impl #impl_generics #codec::Encode for #name #ty_generics #where_clause {
            fn size_hint(&self) -> usize {
                #hint
            }
            fn encode_to<__O: #codec::Output + ?::core::marker::Sized>(&self, __dest: &mut __O) {
                #body
            }
        }
        #[automatically_derived]
        impl #impl_generics #codec::EncodeLike for #name #ty_generics #where_clause {}
    })
}

/// `#[derive(Decode)]`.
pub fn derive_decode(input: DeriveInput) -> Result<TokenStream> {
    let codec = crate_path(&input.attrs)?;
    let name = &input.ident;
    let generics = bounded_generics(&input, &syn::parse_quote!(#codec::Decode));
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let body = match &input.data {
        Data::Struct(data) => {
            let value = decode_fields(&codec, quote!(Self), &data.fields)?;
            quote!(::core::result::Result::Ok(#value))
        }
        Data::Enum(data) => {
            let mut arms = TokenStream::new();
            for (variant, index) in variant_indexes(data)? {
                let ident = &variant.ident;
                let value = decode_fields(&codec, quote!(Self::#ident), &variant.fields)?;
                arms.extend(quote!(__index if __index == #index => ::core::result::Result::Ok(#value),));
            }
            let message = format!("Could not decode `{name}`, variant doesn't exist");
            quote! {
                match #codec::Input::read_byte(__input)? {
                    #arms
                    _ => ::core::result::Result::Err(#codec::Error::from(#message)),
                }
            }
        }
        Data::Union(u) => return Err(Error::new(u.union_token.span, "SCALE cannot derive Decode for a union")),
    };
    Ok(quote! {
        #[automatically_derived]
        #[allow(clippy::all)]
        impl #impl_generics #codec::Decode for #name #ty_generics #where_clause {
            fn decode<__I: #codec::Input>(__input: &mut __I) -> ::core::result::Result<Self, #codec::Error> {
                #body
            }
        }
    })
}
