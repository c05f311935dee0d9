//! `#[template]`: method table, dispatcher, entry point and panic handler.
//!
//! The ABI it implements (normative in `docs/sdk.md`):
//! * input = `selector(name) ‖ SCALE(arg1) ‖ SCALE(arg2) ...`, with
//!   `selector(name) = blake3(name)[..4]`;
//! * success = `RETURN(SCALE(result))` (`()` gives empty output);
//! * short input, unknown selector, undecodable or trailing argument bytes
//!   and undecodable state all `REVERT` with a UTF-8 message, never trap.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Error, FnArg, ImplItem, ItemImpl, Result, ReturnType, Type};

/// `blake3(name)[..4]`: the selector rule shared with the host
/// (`athena_transaction::selector`).
pub fn selector_of(name: &str) -> [u8; 4] {
    let hash = blake3::hash(name.as_bytes());
    let mut out = [0u8; 4];
    out.copy_from_slice(&hash.as_bytes()[..4]);
    out
}

/// Methods the host calls by name, with the signature it expects.
const WELL_KNOWN: &[(&str, &str)] = &[
    ("spawn", "`fn spawn(&self)`"),
    ("verify", "`fn verify(&self, message: Vec<u8>, authenticator: Vec<u8>) -> bool`"),
    ("max_spend", "`fn max_spend(&self, payload: Vec<u8>) -> u64`"),
];

/// One `#[callable]` method.
struct Callable {
    ident: syn::Ident,
    /// The ABI name (the identifier without `r#`).
    name: String,
    has_self: bool,
    args: Vec<Type>,
    output: ReturnType,
    /// Human-readable signature for the method table.
    signature: String,
}

/// Options of `#[template(...)]`.
struct Options {
    /// Do not generate the host-side `fn main()`.
    no_main: bool,
    /// Format every panic message with `core::fmt` (bigger code).
    format_panics: bool,
}

fn parse_options(attr: TokenStream) -> Result<Options> {
    let mut options = Options { no_main: false, format_panics: false };
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("no_main") {
            options.no_main = true;
            Ok(())
        } else if meta.path.is_ident("format_panics") {
            options.format_panics = true;
            Ok(())
        } else {
            Err(meta.error("unknown #[template] option (supported: `no_main`, `format_panics`)"))
        }
    });
    syn::parse::Parser::parse2(parser, attr)?;
    Ok(options)
}

fn is_callable_attr(attr: &syn::Attribute) -> bool {
    attr.path().segments.last().is_some_and(|s| s.ident == "callable")
}

/// Tokens as compact text: `Vec < u8 >` becomes `Vec<u8>`, `(u8 , [u8 ; 4])`
/// becomes `(u8, [u8; 4])`.
fn pretty(tokens: &impl ToTokens) -> String {
    let text = tokens.to_token_stream().to_string();
    let chars: Vec<char> = text.chars().collect();
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '\'';
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            // Keep a space only between two words (`dyn Trait`, `&'a str`).
            let prev = out.chars().last().unwrap_or(' ');
            let next = chars.get(i + 1).copied().unwrap_or(' ');
            if !(word(prev) && word(next)) {
                continue;
            }
        }
        out.push(c);
    }
    out.replace(',', ", ").replace(';', "; ").replace("->", " -> ")
}

/// Validates a `#[callable]` method and records what the dispatcher needs.
fn callable(method: &syn::ImplItemFn) -> Result<Callable> {
    let sig = &method.sig;
    let ident = sig.ident.clone();
    let name = ident.to_string().trim_start_matches("r#").to_string();
    if let Some(param) = sig.generics.params.first() {
        return Err(Error::new(param.span(), "a #[callable] method cannot be generic: its ABI must be fixed"));
    }
    if let Some(token) = &sig.asyncness {
        return Err(Error::new(token.span, "a #[callable] method cannot be async"));
    }
    if let Some(token) = &sig.unsafety {
        return Err(Error::new(token.span, "a #[callable] method cannot be unsafe"));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(Error::new(variadic.span(), "a #[callable] method cannot be variadic"));
    }
    let mut has_self = false;
    let mut args = Vec::new();
    let mut shown = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => {
                if receiver.mutability.is_some() || receiver.reference.is_none() || receiver.colon_token.is_some() {
                    let what = if receiver.mutability.is_some() && receiver.reference.is_some() {
                        "`&mut self` is not allowed: a program's state is immutable (fixed when it is spawned). \
                         Take `&self`, and keep mutable data in storage (athena_sdk::storage::Value / Map)"
                    } else {
                        "a #[callable] method takes `&self` (the program's immutable state) or no receiver"
                    };
                    return Err(Error::new(receiver.span(), what));
                }
                has_self = true;
                shown.push("&self".to_string());
            }
            FnArg::Typed(typed) => {
                args.push((*typed.ty).clone());
                shown.push(format!("{}: {}", pretty(&typed.pat), pretty(&typed.ty)));
            }
        }
    }
    let mut signature = format!("({})", shown.join(", "));
    if let ReturnType::Type(_, ty) = &sig.output {
        signature.push_str(" -> ");
        signature.push_str(&pretty(ty));
    }
    Ok(Callable { ident, name, has_self, args, output: sig.output.clone(), signature })
}

fn is_path_type(ty: &Type, name: &str) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.is_ident(name))
}

fn is_vec_u8(ty: &Type) -> bool {
    let Type::Path(p) = ty else { return false };
    let Some(last) = p.path.segments.last() else { return false };
    if last.ident != "Vec" {
        return false;
    }
    let syn::PathArguments::AngleBracketed(generic) = &last.arguments else { return false };
    generic.args.len() == 1
        && matches!(generic.args.first(), Some(syn::GenericArgument::Type(t)) if is_path_type(t, "u8"))
}

fn returns_unit(output: &ReturnType) -> bool {
    match output {
        ReturnType::Default => true,
        ReturnType::Type(_, ty) => matches!(&**ty, Type::Tuple(t) if t.elems.is_empty()),
    }
}

fn returns(output: &ReturnType, name: &str) -> bool {
    matches!(output, ReturnType::Type(_, ty) if is_path_type(ty, name))
}

/// Checks the signature of a well-known method against what the host sends.
fn check_well_known(method: &Callable, span: Span) -> Result<()> {
    let ok = match method.name.as_str() {
        "spawn" => method.has_self && method.args.is_empty() && returns_unit(&method.output),
        "verify" => {
            method.has_self
                && method.args.len() == 2
                && method.args.iter().all(is_vec_u8)
                && returns(&method.output, "bool")
        }
        "max_spend" => {
            method.has_self && method.args.len() == 1 && is_vec_u8(&method.args[0]) && returns(&method.output, "u64")
        }
        _ => return Ok(()),
    };
    if ok {
        return Ok(());
    }
    let expected = WELL_KNOWN.iter().find(|(n, _)| *n == method.name).map_or("", |(_, s)| s);
    Err(Error::new(
        span,
        format!(
            "`{}` is a well-known method the host calls with a fixed ABI; its signature must be {expected}",
            method.name
        ),
    ))
}

/// A `[u8; 4]` pattern/expression for a selector.
fn selector_tokens(selector: [u8; 4]) -> TokenStream {
    let [a, b, c, d] = selector;
    quote!([#a, #b, #c, #d])
}

/// The dispatcher's match arm for one method, whose selector is `pattern`.
fn dispatch_arm(method: &Callable, pattern: &TokenStream) -> TokenStream {
    let name = &method.name;
    let ident = &method.ident;
    let private = quote!(::athena_sdk::__private);
    let mut stmts = TokenStream::new();
    let mut call_args = Vec::new();
    if method.has_self {
        stmts.extend(quote!(let __state: Self = #private::load_state();));
        call_args.push(quote!(&__state));
    }
    // The dispatcher's own locals get call-site spans (`format_ident!`),
    // never the span of a user's type: a type that comes from a
    // `macro_rules!` expansion carries that macro's hygiene, and `__args`
    // spelled with it would not resolve.
    let args = quote::format_ident!("__args");
    for (i, ty) in method.args.iter().enumerate() {
        let var = quote::format_ident!("__arg{}", i);
        stmts.extend(quote_spanned!(ty.span()=> let #var: #ty = #private::decode_arg(&mut #args, #name);));
        call_args.push(quote!(#var));
    }
    quote! {
        #pattern => {
            #stmts
            #private::end_args(__args, #name);
            let __result = Self::#ident(#(#call_args),*);
            #private::return_value(&__result)
        }
    }
}

/// Expands `#[template]`.
pub fn expand(attr: TokenStream, item: TokenStream) -> Result<TokenStream> {
    let options = parse_options(attr)?;
    let mut block: ItemImpl = syn::parse2(item)?;
    if let Some((_, path, _)) = &block.trait_ {
        return Err(Error::new(
            path.span(),
            "#[template] goes on the struct's inherent `impl` block, not a trait impl",
        ));
    }
    if let Some(param) = block.generics.params.first() {
        return Err(Error::new(param.span(), "a template cannot be generic: one template is one program"));
    }
    let self_ty = (*block.self_ty).clone();
    let type_name = match &self_ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default(),
        other => return Err(Error::new(other.span(), "#[template] needs a named struct type")),
    };

    let mut methods = Vec::new();
    for item in &mut block.items {
        let ImplItem::Fn(method) = item else { continue };
        let before = method.attrs.len();
        method.attrs.retain(|a| !is_callable_attr(a));
        let name = method.sig.ident.to_string();
        if method.attrs.len() == before {
            if let Some((_, signature)) = WELL_KNOWN.iter().find(|(n, _)| *n == name) {
                return Err(Error::new(
                    method.sig.ident.span(),
                    format!(
                        "`{name}` is a well-known method the host calls by name: mark it #[callable] ({signature})"
                    ),
                ));
            }
            continue;
        }
        let callable = callable(method)?;
        check_well_known(&callable, method.sig.span())?;
        methods.push(callable);
    }

    let mut table = Vec::new();
    let mut arms = TokenStream::new();
    let mut seen: Vec<([u8; 4], &str)> = Vec::new();
    for method in &methods {
        let selector = selector_of(&method.name);
        if let Some((_, other)) = seen.iter().find(|(s, _)| *s == selector) {
            return Err(Error::new(
                method.ident.span(),
                format!("the selectors of `{}` and `{other}` collide; rename one of them", method.name),
            ));
        }
        seen.push((selector, &method.name));
        let (name, signature, sel) = (&method.name, &method.signature, selector_tokens(selector));
        table.push(quote!(::athena_sdk::Method { name: #name, selector: #sel, signature: #signature }));
        arms.extend(dispatch_arm(method, &sel));
    }
    if !methods.iter().any(|m| m.name == "spawn") {
        let spawn = selector_of("spawn");
        if let Some((_, other)) = seen.iter().find(|(s, _)| *s == spawn) {
            return Err(Error::new(
                Span::call_site(),
                format!("the selector of `{other}` collides with the generated `spawn`; rename it"),
            ));
        }
        let sel = selector_tokens(spawn);
        table.push(quote!(::athena_sdk::Method { name: "spawn", selector: #sel, signature: "(&self) [generated]" }));
        arms.extend(quote! {
            #sel => {
                let _: Self = ::athena_sdk::__private::load_state();
                ::athena_sdk::__private::end_args(__args, "spawn");
                ::athena_sdk::__private::return_value(&())
            }
        });
    }

    let host_main = if options.no_main || std::env::var_os("CARGO_BIN_NAME").is_none() {
        TokenStream::new()
    } else {
        quote! {
            /// Prints the template's method table (host builds only; inside
            /// the VM the entry point is the generated dispatcher).
            #[cfg(not(all(target_arch = "riscv32", target_os = "none")))]
            fn main() {
                ::athena_sdk::__private::print_template::<#self_ty>()
            }
        }
    };

    let panic_body = if options.format_panics {
        quote!(::athena_sdk::__private::panic_revert_formatted(info))
    } else {
        quote!(::athena_sdk::__private::panic_revert(info))
    };

    Ok(quote! {
        #block

        impl ::athena_sdk::Template for #self_ty {
            const NAME: &'static str = #type_name;
            const METHODS: &'static [::athena_sdk::Method] = &[#(#table),*];
        }

        #[cfg(all(target_arch = "riscv32", target_os = "none"))]
        const _: () = {
            impl #self_ty {
                #[doc(hidden)]
                #[inline(always)]
                #[allow(unreachable_code, unused_mut, clippy::all)]
                fn __athena_dispatch(__selector: [u8; 4], mut __args: &[u8]) -> ! {
                    match __selector {
                        #arms
                        _ => ::athena_sdk::__private::unknown_selector(__selector),
                    }
                }
            }

            #[doc(hidden)]
            #[unsafe(export_name = "__athena_main")]
            extern "C" fn __athena_main() {
                let __input = ::athena_sdk::__private::input();
                let (__selector, __args) = ::athena_sdk::__private::split_selector(&__input);
                <#self_ty>::__athena_dispatch(__selector, __args)
            }

            #[doc(hidden)]
            #[panic_handler]
            fn __athena_panic(info: &::core::panic::PanicInfo<'_>) -> ! {
                #panic_body
            }
        };

        #host_main
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_is_the_blake3_prefix() {
        // blake3("spawn"), as computed by athena_transaction::selector.
        assert_eq!(selector_of("spawn"), blake3::hash(b"spawn").as_bytes()[..4]);
        assert_ne!(selector_of("spawn"), selector_of("verify"));
    }

    #[test]
    fn signatures_read_like_rust() {
        let method: syn::ImplItemFn = syn::parse_quote!(
            fn verify(&self, message: Vec<u8>, auth: alloc::vec::Vec<u8>) -> bool {
                true
            }
        );
        let c = callable(&method).unwrap();
        assert_eq!(c.signature, "(&self, message: Vec<u8>, auth: alloc::vec::Vec<u8>) -> bool");
        assert!(check_well_known(&c, Span::call_site()).is_ok());
        let method: syn::ImplItemFn = syn::parse_quote!(
            fn pair(a: (u8, [u8; 4])) -> Option<(u64, u32)> {
                None
            }
        );
        assert_eq!(callable(&method).unwrap().signature, "(a: (u8, [u8; 4])) -> Option<(u64, u32)>");
    }

    #[test]
    fn mut_self_is_rejected_with_the_reason() {
        let method: syn::ImplItemFn = syn::parse_quote!(
            fn bump(&mut self) {}
        );
        let err = callable(&method).err().unwrap().to_string();
        assert!(err.contains("immutable"), "{err}");
    }

    #[test]
    fn well_known_signatures_are_checked() {
        for bad in [
            quote!(
                fn spawn(&self, x: u8) {}
            ),
            quote!(
                fn spawn() {}
            ),
            quote!(
                fn verify(&self, m: Vec<u8>) -> bool {
                    true
                }
            ),
            quote!(
                fn verify(&self, m: Vec<u8>, a: Vec<u16>) -> bool {
                    true
                }
            ),
            quote!(
                fn max_spend(&self, p: Vec<u8>) -> u32 {
                    0
                }
            ),
        ] {
            let method: syn::ImplItemFn = syn::parse2(bad.clone()).unwrap();
            let c = callable(&method).unwrap();
            assert!(check_well_known(&c, Span::call_site()).is_err(), "{bad}");
        }
    }

    #[test]
    fn template_expansion_rejects_a_non_callable_well_known_method() {
        let err = expand(TokenStream::new(), quote!(impl W { fn verify(&self) -> bool { true } })).err().unwrap();
        assert!(err.to_string().contains("mark it #[callable]"), "{err}");
    }
}
