//! The page a confirmation link opens. Opening it (GET) only shows a button, because mail
//! scanners open links by themselves; pressing it (POST) links the handle.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use redress_engine::direct_messages::LinkProblem;
use redress_engine::EngineError;

use super::SocialState;

pub async fn page(headers: HeaderMap, Query(query): Query<HashMap<String, String>>) -> Response {
    let text = text_for(&headers);
    let Some(token) = query.get("token").filter(|t| is_token(t)) else {
        return (
            StatusCode::BAD_REQUEST,
            Html(document(text, &paragraph(text.incomplete))),
        )
            .into_response();
    };
    Html(document(
        text,
        &format!(
            "{}<form method=\"post\" action=\"?token={token}\"><button type=\"submit\">{}</button></form>",
            paragraph(text.question),
            text.confirm
        ),
    ))
    .into_response()
}

pub async fn submit(
    State(state): State<SocialState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let text = text_for(&headers);
    let Some(token) = query.get("token").filter(|t| is_token(t)) else {
        return (
            StatusCode::BAD_REQUEST,
            Html(document(text, &paragraph(text.incomplete))),
        )
            .into_response();
    };
    match state.engine.confirm_handle(token).await {
        Ok(_) => Html(document(text, &paragraph(text.linked))).into_response(),
        Err(EngineError::ConfirmationLink(problem)) => {
            let said = match problem {
                LinkProblem::NotValid => text.not_valid,
                LinkProblem::Used => text.used,
                LinkProblem::Expired => text.expired,
            };
            (
                StatusCode::BAD_REQUEST,
                Html(document(text, &paragraph(said))),
            )
                .into_response()
        }
        Err(err) => {
            tracing::error!(error = %err, "confirming a social handle failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Html(document(text, &paragraph(text.try_again))),
            )
                .into_response()
        }
    }
}

/// Tokens are 64 hex digits; anything else is refused before it reaches HTML or the database.
fn is_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

fn paragraph(text: &str) -> String {
    format!("<p>{text}</p>")
}

fn document(text: &ConfirmPageText, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>Redress</title></head><body>{body}</body></html>",
        text.language
    )
}

/// The page in the first shipped language the browser accepts, else English: the link
/// comes from a mail in the person's language, opened in their own browser.
fn text_for(headers: &HeaderMap) -> &'static ConfirmPageText {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .and_then(redress_core::language::accepted_language)
        .and_then(shipped)
        .unwrap_or(&EN)
}

/// The confirmation page's words in one language (plain text, no markup).
#[derive(Debug)]
struct ConfirmPageText {
    language: &'static str,
    incomplete: &'static str,
    question: &'static str,
    confirm: &'static str,
    linked: &'static str,
    not_valid: &'static str,
    used: &'static str,
    expired: &'static str,
    try_again: &'static str,
}

impl ConfirmPageText {
    /// Every text with its name, for checking translations against English.
    #[cfg(test)]
    fn fields(&self) -> [(&'static str, &'static str); 8] {
        [
            ("incomplete", self.incomplete),
            ("question", self.question),
            ("confirm", self.confirm),
            ("linked", self.linked),
            ("not_valid", self.not_valid),
            ("used", self.used),
            ("expired", self.expired),
            ("try_again", self.try_again),
        ]
    }
}

fn shipped(language: &str) -> Option<&'static ConfirmPageText> {
    Some(match language {
        "en" => &EN,
        "de" => &DE,
        "fr" => &FR,
        "es" => &ES,
        "it" => &IT,
        "pt" => &PT,
        "nl" => &NL,
        "pl" => &PL,
        "ja" => &JA,
        _ => return None,
    })
}

const EN: ConfirmPageText = ConfirmPageText {
    language: "en",
    incomplete: "This link is incomplete.",
    question: "Link this social account to your appeal?",
    confirm: "Confirm",
    linked: "Thank you. Your social account is now linked to your appeal.",
    not_valid: "This confirmation link is not valid.",
    used: "This confirmation link was already used.",
    expired: "This confirmation link has expired.",
    try_again: "Please try again in a few minutes.",
};

const DE: ConfirmPageText = ConfirmPageText {
    language: "de",
    incomplete: "Dieser Link ist unvollständig.",
    question: "Dieses Social-Media-Konto mit Ihrem Einspruch verknüpfen?",
    confirm: "Bestätigen",
    linked: "Vielen Dank. Ihr Social-Media-Konto ist jetzt mit Ihrem Einspruch verknüpft.",
    not_valid: "Dieser Bestätigungslink ist nicht gültig.",
    used: "Dieser Bestätigungslink wurde bereits verwendet.",
    expired: "Dieser Bestätigungslink ist abgelaufen.",
    try_again: "Bitte versuchen Sie es in ein paar Minuten erneut.",
};

const FR: ConfirmPageText = ConfirmPageText {
    language: "fr",
    incomplete: "Ce lien est incomplet.",
    question: "Lier ce compte de réseau social à votre recours ?",
    confirm: "Confirmer",
    linked: "Merci. Votre compte de réseau social est maintenant lié à votre recours.",
    not_valid: "Ce lien de confirmation n'est pas valide.",
    used: "Ce lien de confirmation a déjà été utilisé.",
    expired: "Ce lien de confirmation a expiré.",
    try_again: "Veuillez réessayer dans quelques minutes.",
};

const ES: ConfirmPageText = ConfirmPageText {
    language: "es",
    incomplete: "Este enlace está incompleto.",
    question: "¿Vincular esta cuenta de red social a su recurso?",
    confirm: "Confirmar",
    linked: "Gracias. Su cuenta de red social ya está vinculada a su recurso.",
    not_valid: "Este enlace de confirmación no es válido.",
    used: "Este enlace de confirmación ya se ha utilizado.",
    expired: "Este enlace de confirmación ha caducado.",
    try_again: "Inténtelo de nuevo dentro de unos minutos.",
};

const IT: ConfirmPageText = ConfirmPageText {
    language: "it",
    incomplete: "Questo link è incompleto.",
    question: "Collegare questo account social al Suo ricorso?",
    confirm: "Conferma",
    linked: "Grazie. Il Suo account social è ora collegato al Suo ricorso.",
    not_valid: "Questo link di conferma non è valido.",
    used: "Questo link di conferma è già stato usato.",
    expired: "Questo link di conferma è scaduto.",
    try_again: "Riprovi tra qualche minuto.",
};

const PT: ConfirmPageText = ConfirmPageText {
    language: "pt",
    incomplete: "Esta ligação está incompleta.",
    question: "Associar esta conta de rede social ao seu recurso?",
    confirm: "Confirmar",
    linked: "Obrigado. A sua conta de rede social está agora associada ao seu recurso.",
    not_valid: "Esta ligação de confirmação não é válida.",
    used: "Esta ligação de confirmação já foi utilizada.",
    expired: "Esta ligação de confirmação expirou.",
    try_again: "Tente novamente dentro de alguns minutos.",
};

const NL: ConfirmPageText = ConfirmPageText {
    language: "nl",
    incomplete: "Deze link is onvolledig.",
    question: "Dit socialemedia-account aan uw bezwaar koppelen?",
    confirm: "Bevestigen",
    linked: "Dank u. Uw socialemedia-account is nu aan uw bezwaar gekoppeld.",
    not_valid: "Deze bevestigingslink is niet geldig.",
    used: "Deze bevestigingslink is al gebruikt.",
    expired: "Deze bevestigingslink is verlopen.",
    try_again: "Probeer het over een paar minuten opnieuw.",
};

const PL: ConfirmPageText = ConfirmPageText {
    language: "pl",
    incomplete: "Ten link jest niekompletny.",
    question: "Połączyć to konto w mediach społecznościowych z Państwa odwołaniem?",
    confirm: "Potwierdź",
    linked:
        "Dziękujemy. Państwa konto w mediach społecznościowych jest teraz połączone z odwołaniem.",
    not_valid: "Ten link potwierdzający jest nieprawidłowy.",
    used: "Ten link potwierdzający został już użyty.",
    expired: "Ten link potwierdzający wygasł.",
    try_again: "Prosimy spróbować ponownie za kilka minut.",
};

const JA: ConfirmPageText = ConfirmPageText {
    language: "ja",
    incomplete: "このリンクは不完全です。",
    question: "このソーシャルアカウントを異議申し立てに関連付けますか？",
    confirm: "確認する",
    linked: "ありがとうございます。ソーシャルアカウントが異議申し立てに関連付けられました。",
    not_valid: "この確認リンクは無効です。",
    used: "この確認リンクはすでに使用されています。",
    expired: "この確認リンクは有効期限が切れています。",
    try_again: "数分後にもう一度お試しください。",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_language_has_the_confirmation_page_in_its_own_words() {
        for language in redress_core::language::SHIPPED {
            let Some(text) = shipped(language) else {
                panic!("no confirmation page in {language}");
            };
            assert_eq!(text.language, *language);
            for ((name, ours), (_, english)) in text.fields().into_iter().zip(EN.fields()) {
                assert!(!ours.trim().is_empty(), "{language}/{name} is empty");
                assert!(
                    !ours.contains(['<', '&']),
                    "{language}/{name} is plain text"
                );
                if *language != "en" {
                    assert_ne!(ours, english, "{language}/{name} is not translated");
                }
            }
        }
    }

    #[test]
    fn the_page_speaks_the_first_shipped_language_the_browser_accepts() {
        let mut headers = HeaderMap::new();
        assert_eq!(text_for(&headers).language, "en");
        headers.insert(
            header::ACCEPT_LANGUAGE,
            "sv-SE, pl;q=0.9, en;q=0.5".parse().expect("header"),
        );
        assert_eq!(text_for(&headers).language, "pl");
    }
}
