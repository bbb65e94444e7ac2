//! What people write, in their language: a first mail, a first DM, the DM that gives their
//! address, and a mail asking for news. Placeholders: `{name}`, `{account}`, `{email}`.

use redress_engine::registry::ContentRelation;

use super::Language;

/// Whether the person says they only saved (or shared) the image, or made it.
fn only_saved(relation: ContentRelation) -> bool {
    relation != ContentRelation::Created
}

pub fn email_subject(language: Language, relation: ContentRelation) -> &'static str {
    match (language, only_saved(relation)) {
        (Language::En, true) => "My account was deactivated for an image I only saved",
        (Language::En, false) => "Account deactivated by mistake",
        (Language::De, true) => "Mein Konto wurde wegen eines nur gespeicherten Bildes gesperrt",
        (Language::De, false) => "Konto zu Unrecht deaktiviert",
        (Language::Fr, true) => "Compte désactivé pour une image que j'ai seulement enregistrée",
        (Language::Fr, false) => "Compte désactivé par erreur",
        (Language::Es, true) => "Mi cuenta fue desactivada por una imagen que solo guardé",
        (Language::Es, false) => "Cuenta desactivada por error",
        (Language::Pt, true) => "Minha conta foi desativada por uma imagem que só salvei",
        (Language::Pt, false) => "Conta desativada por engano",
    }
}

fn email_template(language: Language, relation: ContentRelation) -> &'static str {
    match (language, only_saved(relation)) {
        (Language::En, true) => "Hello,\n\nmy account {account} was deactivated yesterday. The notice says an image broke the rules, but I never posted it: I only saved it to one of my boards, like thousands of other people did.\n\nPlease restore my account.\n\n{name}",
        (Language::En, false) => "Hello,\n\nmy account {account} was deactivated without warning. The photo it names is a picture of my own garden, nothing in it breaks your rules. I have used the site for years.\n\nPlease look at it again and restore my account.\n\n{name}",
        (Language::De, true) => "Hallo,\n\nmein Konto {account} wurde gestern deaktiviert. Angeblich verstößt ein Bild gegen die Regeln, aber ich habe es nie gepostet, sondern nur auf einer meiner Pinnwände gespeichert.\n\nBitte stellen Sie mein Konto wieder her.\n\n{name}",
        (Language::De, false) => "Hallo,\n\nmein Konto {account} wurde ohne Vorwarnung deaktiviert. Das genannte Foto zeigt meinen eigenen Garten, darauf ist nichts Verbotenes zu sehen.\n\nBitte prüfen Sie es noch einmal und entsperren Sie mein Konto.\n\n{name}",
        (Language::Fr, true) => "Bonjour,\n\nmon compte {account} a été désactivé hier. On me reproche une image que je n'ai jamais publiée : je l'ai seulement enregistrée sur un de mes tableaux.\n\nMerci de rétablir mon compte.\n\n{name}",
        (Language::Fr, false) => "Bonjour,\n\nmon compte {account} a été désactivé sans avertissement. La photo en cause montre mon propre jardin, rien de contraire à vos règles.\n\nMerci de vérifier à nouveau et de rétablir mon compte.\n\n{name}",
        (Language::Es, true) => "Hola:\n\nmi cuenta {account} fue desactivada ayer. Dicen que una imagen incumple las normas, pero nunca la publiqué: solo la guardé en uno de mis tableros.\n\nPor favor, restablezcan mi cuenta.\n\n{name}",
        (Language::Es, false) => "Hola:\n\nmi cuenta {account} fue desactivada sin aviso. La foto que mencionan es de mi propio jardín y no incumple ninguna norma.\n\nPor favor, revísenla de nuevo y restablezcan mi cuenta.\n\n{name}",
        (Language::Pt, true) => "Olá,\n\na minha conta {account} foi desativada ontem. Dizem que uma imagem viola as regras, mas eu nunca a publiquei: apenas a salvei numa das minhas pastas.\n\nPor favor, restaurem a minha conta.\n\n{name}",
        (Language::Pt, false) => "Olá,\n\na minha conta {account} foi desativada sem aviso. A foto em causa é do meu próprio jardim e não viola nenhuma regra.\n\nPor favor, revejam e restaurem a minha conta.\n\n{name}",
    }
}

pub fn email_body(
    language: Language,
    relation: ContentRelation,
    name: &str,
    account: &str,
) -> String {
    email_template(language, relation)
        .replace("{name}", name)
        .replace("{account}", account)
}

fn dm_template(language: Language, relation: ContentRelation) -> &'static str {
    match (language, only_saved(relation)) {
        (Language::En, true) => "hi, my account got banned for a pin I only SAVED. nobody answers my emails. please help",
        (Language::En, false) => "hello? my account was deactivated for no reason and email support never answers",
        (Language::De, true) => "Hallo, mein Konto wurde gesperrt wegen eines Pins, den ich nur gespeichert habe. Niemand antwortet auf meine Mails",
        (Language::De, false) => "Hallo, mein Konto wurde grundlos deaktiviert und der Support antwortet nicht",
        (Language::Fr, true) => "bonjour, mon compte a été bloqué pour une épingle que j'ai juste enregistrée. personne ne répond à mes mails",
        (Language::Fr, false) => "bonjour, mon compte a été désactivé sans raison et le support ne répond pas",
        (Language::Es, true) => "hola, me bloquearon la cuenta por un pin que solo guardé. nadie contesta mis correos",
        (Language::Es, false) => "hola, desactivaron mi cuenta sin motivo y el soporte no responde",
        (Language::Pt, true) => "olá, bloquearam a minha conta por um pin que só salvei. ninguém responde aos meus emails",
        (Language::Pt, false) => "olá, desativaram a minha conta sem motivo e o suporte não responde",
    }
}

fn email_line(language: Language) -> &'static str {
    match language {
        Language::En => "my email on the account is {email}",
        Language::De => "meine E-Mail-Adresse im Konto ist {email}",
        Language::Fr => "mon adresse e-mail sur le compte est {email}",
        Language::Es => "mi correo en la cuenta es {email}",
        Language::Pt => "o meu email na conta é {email}",
    }
}

/// The first DM; with `email`, it names the account's address at once.
pub fn dm_text(language: Language, relation: ContentRelation, email: Option<&str>) -> String {
    let text = dm_template(language, relation);
    match email {
        Some(email) => format!("{text}. {}", email_line(language).replace("{email}", email)),
        None => text.to_owned(),
    }
}

/// A DM that only gives the account's address, answering the request for it.
pub fn dm_email(language: Language, email: &str) -> String {
    email_line(language).replace("{email}", email)
}

/// A mail asking what became of the appeal; the subject carries its reference.
pub fn follow_up(language: Language) -> (&'static str, &'static str) {
    match language {
        Language::En => (
            "Any news?",
            "Is there any news on my appeal? I still cannot log in.",
        ),
        Language::De => (
            "Gibt es Neuigkeiten?",
            "Gibt es etwas Neues zu meinem Einspruch? Ich kann mich immer noch nicht anmelden.",
        ),
        Language::Fr => (
            "Des nouvelles ?",
            "Avez-vous du nouveau sur mon recours ? Je ne peux toujours pas me connecter.",
        ),
        Language::Es => (
            "¿Hay novedades?",
            "¿Hay novedades sobre mi apelación? Sigo sin poder entrar.",
        ),
        Language::Pt => (
            "Alguma novidade?",
            "Há novidades sobre o meu recurso? Continuo sem conseguir entrar.",
        ),
    }
}

/// What a reviewer asks when the mail does not say what the person did with the image.
pub const REQUEST_INFO: &str = "Thank you for your appeal. Did you upload the image yourself, or did you save or share it from someone else's board? A link to the board helps us decide quickly.";

pub const RESTORE_SAVED: &str = "The account only saved the image; saving someone else's pin does not breach the adult-content policy, and the image itself was misclassified by image-safety-v7.3.";
pub const RESTORE_CREATED: &str =
    "The image is a garden photograph that image-safety-v7.3 misclassified; it breaches no policy.";
pub const UPHOLD_CREATED: &str = "The account uploaded the image itself and it shows adult nudity, which the community guidelines do not allow.";
pub const UPHOLD_SPAM: &str =
    "The account posted the same commercial link on hundreds of boards within an hour.";
pub const RESTORE_SPAM: &str =
    "The links point to the person's own shop and were posted at a normal rate; the rule misfired.";
