//! A statement of reasons (DSA Art. 17) as plain text for a decision mail, in the mail's
//! language (English for a language Redress does not ship).

use std::fmt::Write;

use redress_core::statement::{
    Automation, Ground, RedressOption, RestrictionKind, StatementOfReasons, TerritorialScope,
};
use redress_engine::transparency::EnforcementFacts;

use crate::case_details::DisputeSettlementBody;

struct Labels {
    restriction: &'static str,
    until_further_notice: &'static str,
    until: &'static str,
    scope: &'static str,
    worldwide: &'static str,
    facts: &'static str,
    detection: &'static str,
    decision: &'static str,
    ground: &'static str,
    terms: &'static str,
    illegal: &'static str,
    automation: fn(Automation) -> &'static str,
    kind: fn(RestrictionKind) -> &'static str,
    option: fn(RedressOption) -> &'static str,
    what: &'static str,
    when: &'static str,
    policy: &'static str,
    bodies: &'static str,
    unknown_enforcement: &'static str,
}

const EN: Labels = Labels {
    restriction: "Restriction",
    until_further_notice: "until further notice",
    until: "until",
    scope: "Where it applies",
    worldwide: "everywhere the service is offered",
    facts: "Facts",
    detection: "Detected automatically",
    decision: "Decided automatically",
    ground: "Ground",
    terms: "incompatible with our terms",
    illegal: "illegal content under",
    automation: |a| match a {
        Automation::Fully => "fully",
        Automation::Partially => "partially",
        Automation::Not => "no",
    },
    kind: |k| match k {
        RestrictionKind::ContentRemoved => "content removed",
        RestrictionKind::ContentDisabled => "content disabled",
        RestrictionKind::ContentDemoted => "content demoted",
        RestrictionKind::ContentAgeRestricted => "content age-restricted",
        RestrictionKind::InteractionRestricted => "interaction restricted",
        RestrictionKind::ContentLabelled => "content labelled",
        RestrictionKind::AccountSuspended => "account suspended",
        RestrictionKind::AccountTerminated => "account terminated",
        RestrictionKind::MonetarySuspended => "payments suspended",
        RestrictionKind::MonetaryTerminated => "payments terminated",
        RestrictionKind::ServicePartiallySuspended => "service partially suspended",
        RestrictionKind::ServiceSuspended => "service suspended",
        RestrictionKind::ServicePartiallyTerminated => "service partially terminated",
        RestrictionKind::ServiceTerminated => "service terminated",
    },
    option: |o| match o {
        RedressOption::InternalComplaint => {
            "reply to this message to have the decision reviewed again"
        }
        RedressOption::OutOfCourtDisputeSettlement => {
            "refer the dispute to a certified out-of-court dispute settlement body"
        }
        RedressOption::JudicialRedress => "seek redress before a court",
    },
    what: "What was restricted",
    when: "When",
    policy: "Under which policy",
    bodies: "for example",
    unknown_enforcement: "We could not yet tell which of our decisions you appeal. If you \
                          can, reply with the date and what was restricted.",
};

const DE: Labels = Labels {
    restriction: "Beschränkung",
    until_further_notice: "bis auf Weiteres",
    until: "bis",
    scope: "Geltungsbereich",
    worldwide: "überall, wo der Dienst angeboten wird",
    facts: "Sachverhalt",
    detection: "Automatisch erkannt",
    decision: "Automatisch entschieden",
    ground: "Grund",
    terms: "unvereinbar mit unseren Nutzungsbedingungen",
    illegal: "rechtswidrige Inhalte nach",
    automation: |a| match a {
        Automation::Fully => "vollständig",
        Automation::Partially => "teilweise",
        Automation::Not => "nein",
    },
    kind: |k| match k {
        RestrictionKind::ContentRemoved => "Inhalt entfernt",
        RestrictionKind::ContentDisabled => "Inhalt gesperrt",
        RestrictionKind::ContentDemoted => "Inhalt herabgestuft",
        RestrictionKind::ContentAgeRestricted => "Inhalt mit Altersbeschränkung",
        RestrictionKind::InteractionRestricted => "Interaktion eingeschränkt",
        RestrictionKind::ContentLabelled => "Inhalt gekennzeichnet",
        RestrictionKind::AccountSuspended => "Konto vorübergehend gesperrt",
        RestrictionKind::AccountTerminated => "Konto gekündigt",
        RestrictionKind::MonetarySuspended => "Zahlungen ausgesetzt",
        RestrictionKind::MonetaryTerminated => "Zahlungen eingestellt",
        RestrictionKind::ServicePartiallySuspended => "Dienst teilweise ausgesetzt",
        RestrictionKind::ServiceSuspended => "Dienst ausgesetzt",
        RestrictionKind::ServicePartiallyTerminated => "Dienst teilweise eingestellt",
        RestrictionKind::ServiceTerminated => "Dienst eingestellt",
    },
    option: |o| match o {
        RedressOption::InternalComplaint => {
            "Antworten Sie auf diese Nachricht, um die Entscheidung erneut prüfen zu lassen."
        }
        RedressOption::OutOfCourtDisputeSettlement => {
            "Wenden Sie sich an eine zertifizierte außergerichtliche Streitbeilegungsstelle."
        }
        RedressOption::JudicialRedress => "Beschreiten Sie den Rechtsweg.",
    },
    what: "Was eingeschränkt wurde",
    when: "Wann",
    policy: "Nach welcher Regel",
    bodies: "zum Beispiel",
    unknown_enforcement: "Wir konnten noch nicht feststellen, welche unserer Entscheidungen \
                          Sie anfechten. Antworten Sie wenn möglich mit dem Datum und was \
                          eingeschränkt wurde.",
};

const FR: Labels = Labels {
    restriction: "Restriction",
    until_further_notice: "jusqu'à nouvel ordre",
    until: "jusqu'au",
    scope: "Champ d'application",
    worldwide: "partout où le service est proposé",
    facts: "Faits",
    detection: "Détection automatisée",
    decision: "Décision automatisée",
    ground: "Motif",
    terms: "incompatible avec nos conditions d'utilisation",
    illegal: "contenu illicite au sens de",
    automation: |a| match a {
        Automation::Fully => "entièrement",
        Automation::Partially => "partiellement",
        Automation::Not => "non",
    },
    kind: |k| match k {
        RestrictionKind::ContentRemoved => "contenu supprimé",
        RestrictionKind::ContentDisabled => "contenu rendu inaccessible",
        RestrictionKind::ContentDemoted => "contenu rétrogradé",
        RestrictionKind::ContentAgeRestricted => "contenu soumis à une limite d'âge",
        RestrictionKind::InteractionRestricted => "interactions restreintes",
        RestrictionKind::ContentLabelled => "contenu signalé par une mention",
        RestrictionKind::AccountSuspended => "compte suspendu",
        RestrictionKind::AccountTerminated => "compte supprimé",
        RestrictionKind::MonetarySuspended => "paiements suspendus",
        RestrictionKind::MonetaryTerminated => "paiements arrêtés",
        RestrictionKind::ServicePartiallySuspended => "service partiellement suspendu",
        RestrictionKind::ServiceSuspended => "service suspendu",
        RestrictionKind::ServicePartiallyTerminated => "service partiellement arrêté",
        RestrictionKind::ServiceTerminated => "service arrêté",
    },
    option: |o| match o {
        RedressOption::InternalComplaint => {
            "répondre à ce message pour faire réexaminer la décision"
        }
        RedressOption::OutOfCourtDisputeSettlement => {
            "soumettre le litige à un organisme certifié de règlement extrajudiciaire des litiges"
        }
        RedressOption::JudicialRedress => "saisir la justice",
    },
    what: "Ce qui a été restreint",
    when: "Quand",
    policy: "En vertu de quelle règle",
    bodies: "par exemple",
    unknown_enforcement: "Nous n'avons pas encore pu déterminer laquelle de nos décisions \
                          vous contestez. Si possible, répondez en indiquant la date et ce qui \
                          a été restreint.",
};

const ES: Labels = Labels {
    restriction: "Restricción",
    until_further_notice: "hasta nuevo aviso",
    until: "hasta el",
    scope: "Ámbito de aplicación",
    worldwide: "en todos los lugares donde se ofrece el servicio",
    facts: "Hechos",
    detection: "Detección automatizada",
    decision: "Decisión automatizada",
    ground: "Fundamento",
    terms: "incompatible con nuestras condiciones de uso",
    illegal: "contenido ilícito según",
    automation: |a| match a {
        Automation::Fully => "totalmente",
        Automation::Partially => "parcialmente",
        Automation::Not => "no",
    },
    kind: |k| match k {
        RestrictionKind::ContentRemoved => "contenido eliminado",
        RestrictionKind::ContentDisabled => "contenido inhabilitado",
        RestrictionKind::ContentDemoted => "contenido con menor visibilidad",
        RestrictionKind::ContentAgeRestricted => "contenido con restricción de edad",
        RestrictionKind::InteractionRestricted => "interacción restringida",
        RestrictionKind::ContentLabelled => "contenido etiquetado",
        RestrictionKind::AccountSuspended => "cuenta suspendida",
        RestrictionKind::AccountTerminated => "cuenta cancelada",
        RestrictionKind::MonetarySuspended => "pagos suspendidos",
        RestrictionKind::MonetaryTerminated => "pagos cancelados",
        RestrictionKind::ServicePartiallySuspended => "servicio suspendido parcialmente",
        RestrictionKind::ServiceSuspended => "servicio suspendido",
        RestrictionKind::ServicePartiallyTerminated => "servicio cancelado parcialmente",
        RestrictionKind::ServiceTerminated => "servicio cancelado",
    },
    option: |o| match o {
        RedressOption::InternalComplaint => {
            "responder a este mensaje para que se vuelva a revisar la decisión"
        }
        RedressOption::OutOfCourtDisputeSettlement => {
            "someter el litigio a un órgano certificado de resolución extrajudicial de litigios"
        }
        RedressOption::JudicialRedress => "acudir a los tribunales",
    },
    what: "Qué se restringió",
    when: "Cuándo",
    policy: "En virtud de qué norma",
    bodies: "por ejemplo",
    unknown_enforcement: "Todavía no hemos podido determinar qué decisión nuestra recurre. \
                          Si puede, responda indicando la fecha y qué se restringió.",
};

const IT: Labels = Labels {
    restriction: "Limitazione",
    until_further_notice: "fino a nuovo avviso",
    until: "fino al",
    scope: "Ambito di applicazione",
    worldwide: "ovunque il servizio sia offerto",
    facts: "Fatti",
    detection: "Rilevamento automatizzato",
    decision: "Decisione automatizzata",
    ground: "Motivo",
    terms: "incompatibile con i nostri termini di servizio",
    illegal: "contenuto illegale ai sensi di",
    automation: |a| match a {
        Automation::Fully => "completamente",
        Automation::Partially => "parzialmente",
        Automation::Not => "no",
    },
    kind: |k| match k {
        RestrictionKind::ContentRemoved => "contenuto rimosso",
        RestrictionKind::ContentDisabled => "contenuto disabilitato",
        RestrictionKind::ContentDemoted => "visibilità del contenuto ridotta",
        RestrictionKind::ContentAgeRestricted => "contenuto soggetto a limiti di età",
        RestrictionKind::InteractionRestricted => "interazioni limitate",
        RestrictionKind::ContentLabelled => "contenuto etichettato",
        RestrictionKind::AccountSuspended => "account sospeso",
        RestrictionKind::AccountTerminated => "account chiuso",
        RestrictionKind::MonetarySuspended => "pagamenti sospesi",
        RestrictionKind::MonetaryTerminated => "pagamenti interrotti",
        RestrictionKind::ServicePartiallySuspended => "servizio parzialmente sospeso",
        RestrictionKind::ServiceSuspended => "servizio sospeso",
        RestrictionKind::ServicePartiallyTerminated => "servizio parzialmente interrotto",
        RestrictionKind::ServiceTerminated => "servizio interrotto",
    },
    option: |o| {
        match o {
        RedressOption::InternalComplaint => {
            "rispondere a questo messaggio per far riesaminare la decisione"
        }
        RedressOption::OutOfCourtDisputeSettlement => {
            "sottoporre la controversia a un organismo certificato di risoluzione extragiudiziale delle controversie"
        }
        RedressOption::JudicialRedress => "rivolgersi a un tribunale",
    }
    },
    what: "Che cosa è stato limitato",
    when: "Quando",
    policy: "In base a quale regola",
    bodies: "ad esempio",
    unknown_enforcement: "Non abbiamo ancora potuto stabilire quale nostra decisione Lei \
                          contesta. Se possibile, risponda indicando la data e che cosa è \
                          stato limitato.",
};

const PT: Labels = Labels {
    restriction: "Restrição",
    until_further_notice: "até nova indicação",
    until: "até",
    scope: "Âmbito de aplicação",
    worldwide: "em todos os locais onde o serviço é oferecido",
    facts: "Factos",
    detection: "Deteção automatizada",
    decision: "Decisão automatizada",
    ground: "Fundamento",
    terms: "incompatível com os nossos termos de utilização",
    illegal: "conteúdo ilegal nos termos de",
    automation: |a| match a {
        Automation::Fully => "totalmente",
        Automation::Partially => "parcialmente",
        Automation::Not => "não",
    },
    kind: |k| match k {
        RestrictionKind::ContentRemoved => "conteúdo removido",
        RestrictionKind::ContentDisabled => "conteúdo desativado",
        RestrictionKind::ContentDemoted => "visibilidade do conteúdo reduzida",
        RestrictionKind::ContentAgeRestricted => "conteúdo com restrição de idade",
        RestrictionKind::InteractionRestricted => "interação restringida",
        RestrictionKind::ContentLabelled => "conteúdo assinalado",
        RestrictionKind::AccountSuspended => "conta suspensa",
        RestrictionKind::AccountTerminated => "conta encerrada",
        RestrictionKind::MonetarySuspended => "pagamentos suspensos",
        RestrictionKind::MonetaryTerminated => "pagamentos cessados",
        RestrictionKind::ServicePartiallySuspended => "serviço parcialmente suspenso",
        RestrictionKind::ServiceSuspended => "serviço suspenso",
        RestrictionKind::ServicePartiallyTerminated => "serviço parcialmente cessado",
        RestrictionKind::ServiceTerminated => "serviço cessado",
    },
    option: |o| match o {
        RedressOption::InternalComplaint => {
            "responder a esta mensagem para que a decisão seja reapreciada"
        }
        RedressOption::OutOfCourtDisputeSettlement => {
            "submeter o litígio a um organismo certificado de resolução extrajudicial de litígios"
        }
        RedressOption::JudicialRedress => "recorrer aos tribunais",
    },
    what: "O que foi restringido",
    when: "Quando",
    policy: "Ao abrigo de que regra",
    bodies: "por exemplo",
    unknown_enforcement: "Ainda não conseguimos determinar de qual das nossas decisões \
                          recorre. Se puder, responda com a data e o que foi restringido.",
};

const NL: Labels = Labels {
    restriction: "Beperking",
    until_further_notice: "tot nader order",
    until: "tot",
    scope: "Geldt voor",
    worldwide: "overal waar de dienst wordt aangeboden",
    facts: "Feiten",
    detection: "Automatisch ontdekt",
    decision: "Automatisch besloten",
    ground: "Grond",
    terms: "in strijd met onze gebruiksvoorwaarden",
    illegal: "illegale inhoud volgens",
    automation: |a| match a {
        Automation::Fully => "volledig",
        Automation::Partially => "gedeeltelijk",
        Automation::Not => "nee",
    },
    kind: |k| match k {
        RestrictionKind::ContentRemoved => "inhoud verwijderd",
        RestrictionKind::ContentDisabled => "inhoud ontoegankelijk gemaakt",
        RestrictionKind::ContentDemoted => "inhoud lager gerangschikt",
        RestrictionKind::ContentAgeRestricted => "inhoud met leeftijdsgrens",
        RestrictionKind::InteractionRestricted => "interactie beperkt",
        RestrictionKind::ContentLabelled => "inhoud van een label voorzien",
        RestrictionKind::AccountSuspended => "account opgeschort",
        RestrictionKind::AccountTerminated => "account beëindigd",
        RestrictionKind::MonetarySuspended => "betalingen opgeschort",
        RestrictionKind::MonetaryTerminated => "betalingen beëindigd",
        RestrictionKind::ServicePartiallySuspended => "dienst gedeeltelijk opgeschort",
        RestrictionKind::ServiceSuspended => "dienst opgeschort",
        RestrictionKind::ServicePartiallyTerminated => "dienst gedeeltelijk beëindigd",
        RestrictionKind::ServiceTerminated => "dienst beëindigd",
    },
    option: |o| {
        match o {
        RedressOption::InternalComplaint => {
            "dit bericht beantwoorden om het besluit opnieuw te laten beoordelen"
        }
        RedressOption::OutOfCourtDisputeSettlement => {
            "het geschil voorleggen aan een gecertificeerde instantie voor buitengerechtelijke geschillenbeslechting"
        }
        RedressOption::JudicialRedress => "naar de rechter stappen",
    }
    },
    what: "Wat is beperkt",
    when: "Wanneer",
    policy: "Op grond van welke regel",
    bodies: "bijvoorbeeld",
    unknown_enforcement: "Wij konden nog niet vaststellen tegen welk besluit van ons u bezwaar \
                          maakt. Antwoord als het kan met de datum en wat er is beperkt.",
};

const PL: Labels = Labels {
    restriction: "Ograniczenie",
    until_further_notice: "do odwołania",
    until: "do",
    scope: "Zakres terytorialny",
    worldwide: "wszędzie tam, gdzie usługa jest oferowana",
    facts: "Fakty",
    detection: "Wykryto automatycznie",
    decision: "Zdecydowano automatycznie",
    ground: "Podstawa",
    terms: "niezgodne z naszym regulaminem",
    illegal: "nielegalne treści w rozumieniu",
    automation: |a| match a {
        Automation::Fully => "całkowicie",
        Automation::Partially => "częściowo",
        Automation::Not => "nie",
    },
    kind: |k| match k {
        RestrictionKind::ContentRemoved => "treść usunięta",
        RestrictionKind::ContentDisabled => "dostęp do treści zablokowany",
        RestrictionKind::ContentDemoted => "obniżona widoczność treści",
        RestrictionKind::ContentAgeRestricted => "treść z ograniczeniem wiekowym",
        RestrictionKind::InteractionRestricted => "ograniczone interakcje",
        RestrictionKind::ContentLabelled => "treść oznaczona etykietą",
        RestrictionKind::AccountSuspended => "konto zawieszone",
        RestrictionKind::AccountTerminated => "konto usunięte",
        RestrictionKind::MonetarySuspended => "płatności zawieszone",
        RestrictionKind::MonetaryTerminated => "płatności wstrzymane na stałe",
        RestrictionKind::ServicePartiallySuspended => "usługa częściowo zawieszona",
        RestrictionKind::ServiceSuspended => "usługa zawieszona",
        RestrictionKind::ServicePartiallyTerminated => "usługa częściowo zakończona",
        RestrictionKind::ServiceTerminated => "usługa zakończona",
    },
    option: |o| match o {
        RedressOption::InternalComplaint => {
            "odpowiedzieć na tę wiadomość, aby decyzja została ponownie rozpatrzona"
        }
        RedressOption::OutOfCourtDisputeSettlement => {
            "skierować spór do certyfikowanego organu pozasądowego rozstrzygania sporów"
        }
        RedressOption::JudicialRedress => "dochodzić swoich praw przed sądem",
    },
    what: "Co zostało ograniczone",
    when: "Kiedy",
    policy: "Na podstawie jakiej zasady",
    bodies: "na przykład",
    unknown_enforcement: "Nie udało się jeszcze ustalić, której z naszych decyzji dotyczy \
                          odwołanie. Jeśli to możliwe, prosimy odpowiedzieć, podając datę i \
                          to, co zostało ograniczone.",
};

const JA: Labels = Labels {
    restriction: "制限",
    until_further_notice: "別途通知するまで",
    until: "期限",
    scope: "適用範囲",
    worldwide: "サービスを提供しているすべての地域",
    facts: "事実",
    detection: "自動検出",
    decision: "自動判断",
    ground: "根拠",
    terms: "利用規約に違反",
    illegal: "次の法令に基づく違法なコンテンツ",
    automation: |a| match a {
        Automation::Fully => "完全",
        Automation::Partially => "一部",
        Automation::Not => "なし",
    },
    kind: |k| match k {
        RestrictionKind::ContentRemoved => "コンテンツの削除",
        RestrictionKind::ContentDisabled => "コンテンツの無効化",
        RestrictionKind::ContentDemoted => "コンテンツの表示順位の引き下げ",
        RestrictionKind::ContentAgeRestricted => "コンテンツの年齢制限",
        RestrictionKind::InteractionRestricted => "交流機能の制限",
        RestrictionKind::ContentLabelled => "コンテンツへのラベル表示",
        RestrictionKind::AccountSuspended => "アカウントの一時停止",
        RestrictionKind::AccountTerminated => "アカウントの削除",
        RestrictionKind::MonetarySuspended => "支払いの一時停止",
        RestrictionKind::MonetaryTerminated => "支払いの停止",
        RestrictionKind::ServicePartiallySuspended => "サービスの一部一時停止",
        RestrictionKind::ServiceSuspended => "サービスの一時停止",
        RestrictionKind::ServicePartiallyTerminated => "サービスの一部終了",
        RestrictionKind::ServiceTerminated => "サービスの終了",
    },
    option: |o| match o {
        RedressOption::InternalComplaint => "このメッセージに返信して、判断の再審査を求める",
        RedressOption::OutOfCourtDisputeSettlement => {
            "認定を受けた裁判外紛争解決機関に紛争を付託する"
        }
        RedressOption::JudicialRedress => "裁判所に救済を求める",
    },
    what: "制限された内容",
    when: "日時",
    policy: "適用された規定",
    bodies: "例",
    unknown_enforcement: "お客様が異議を申し立てている当社の措置をまだ特定できていません。\
                          可能であれば、日付と制限された内容をご返信ください。",
};

/// The labels of a shipped language; `None` for any other.
fn shipped_labels(language: &str) -> Option<&'static Labels> {
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

fn labels(language: &str) -> &'static Labels {
    shipped_labels(language).unwrap_or(&EN)
}

/// The statement as lines of `label: value`.
pub fn describe(statement: &StatementOfReasons, language: &str) -> String {
    let l = labels(language);
    let mut out = String::new();
    for restriction in &statement.restrictions {
        let until = restriction.ends_at.map_or_else(
            || l.until_further_notice.to_owned(),
            |end| format!("{} {}", l.until, end.format("%Y-%m-%d")),
        );
        let _ = writeln!(
            out,
            "{}: {}, {until}",
            l.restriction,
            (l.kind)(restriction.kind)
        );
    }
    let scope = match &statement.territorial_scope {
        TerritorialScope::Worldwide => l.worldwide.to_owned(),
        TerritorialScope::Countries { countries } => countries.join(", "),
    };
    let _ = writeln!(out, "{}: {scope}", l.scope);
    let _ = writeln!(out, "{}: {}", l.facts, statement.facts.trim());
    let _ = writeln!(
        out,
        "{}: {}",
        l.detection,
        (l.automation)(statement.automated_detection)
    );
    let _ = writeln!(
        out,
        "{}: {}",
        l.decision,
        (l.automation)(statement.automated_decision)
    );
    let ground = match &statement.ground {
        Ground::IncompatibleWithTerms {
            clause,
            explanation,
        } => format!("{} ({clause}): {explanation}", l.terms),
        Ground::IllegalContent {
            legal_ground,
            explanation,
        } => format!("{} {legal_ground}: {explanation}", l.illegal),
    };
    let _ = write!(out, "{}: {ground}", l.ground);
    out
}

/// The redress options as a list, one `- ` line each; the out-of-court option names the
/// configured certified bodies.
pub fn redress_options(
    options: &[RedressOption],
    bodies: &[DisputeSettlementBody],
    language: &str,
) -> String {
    let l = labels(language);
    options
        .iter()
        .map(|option| {
            let mut line = format!("- {}", (l.option)(*option));
            if *option == RedressOption::OutOfCourtDisputeSettlement && !bodies.is_empty() {
                let named = bodies
                    .iter()
                    .map(|body| format!("{} ({})", body.name, body.url))
                    .collect::<Vec<_>>()
                    .join(", ");
                let _ = write!(line, " ({}: {named})", l.bodies);
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Said when the appeal names no enforcement Redress knows.
pub fn unknown_enforcement(language: &str) -> String {
    labels(language).unknown_enforcement.to_owned()
}

/// The enforcement an appeal concerns: what was restricted, when, under which policy and
/// whether it was automated, from its statement of reasons where there is one.
pub fn describe_enforcement(facts: &EnforcementFacts, language: &str) -> String {
    let l = labels(language);
    let what = what_was_restricted(facts, language);
    let policy = match facts.statement.as_ref().map(|s| &s.ground) {
        Some(Ground::IncompatibleWithTerms { clause, .. }) => {
            format!("{} ({}: {clause})", facts.policy, l.terms)
        }
        Some(Ground::IllegalContent { legal_ground, .. }) => {
            format!("{} ({} {legal_ground})", facts.policy, l.illegal)
        }
        None => facts.policy.clone(),
    };
    let mut out = String::new();
    let _ = writeln!(out, "{}: {what}", l.what);
    let _ = writeln!(
        out,
        "{}: {}",
        l.when,
        facts.enforced_at.format("%Y-%m-%d %H:%M UTC")
    );
    let _ = writeln!(out, "{}: {policy}", l.policy);
    let _ = writeln!(
        out,
        "{}: {}",
        l.detection,
        (l.automation)(facts.automated_detection)
    );
    let _ = writeln!(
        out,
        "{}: {}",
        l.decision,
        (l.automation)(facts.automated_decision)
    );
    let _ = write!(out, "{}: {}", l.facts, facts.facts.trim());
    out
}

/// What an enforcement restricted, in `language`, from its statement of reasons; without
/// one, the platform's own name for the action.
pub fn what_was_restricted(facts: &EnforcementFacts, language: &str) -> String {
    let l = labels(language);
    match &facts.statement {
        Some(statement) if !statement.restrictions.is_empty() => statement
            .restrictions
            .iter()
            .map(|r| (l.kind)(r.kind))
            .collect::<Vec<_>>()
            .join(", "),
        _ => facts.kind.replace('_', " "),
    }
}

/// The labels of an enforcement's description, in `language`.
#[derive(Debug, Clone, Copy)]
pub struct EnforcementLabels {
    pub what: &'static str,
    pub when: &'static str,
    pub policy: &'static str,
    pub facts: &'static str,
    pub detection: &'static str,
    pub decision: &'static str,
}

pub fn enforcement_labels(language: &str) -> EnforcementLabels {
    let l = labels(language);
    EnforcementLabels {
        what: l.what,
        when: l.when,
        policy: l.policy,
        facts: l.facts,
        detection: l.detection,
        decision: l.decision,
    }
}

/// A redress option, as what the appellant can still do, in `language`.
pub fn redress_option(option: RedressOption, language: &str) -> &'static str {
    (labels(language).option)(option)
}

/// How automated a step was, in `language`.
pub fn automation(level: Automation, language: &str) -> &'static str {
    (labels(language).automation)(level)
}

/// The options every decision mail offers when the decision carries no statement.
pub const DEFAULT_REDRESS: &[RedressOption] = &[
    RedressOption::InternalComplaint,
    RedressOption::OutOfCourtDisputeSettlement,
    RedressOption::JudicialRedress,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_language_has_its_own_labels() {
        for language in crate::mail::templates::SHIPPED_LANGUAGES {
            let labels = shipped_labels(language)
                .unwrap_or_else(|| panic!("no statement labels in {language}"));
            if *language != "en" {
                assert_ne!(labels.what, EN.what, "{language} is not translated");
                assert_ne!(
                    labels.unknown_enforcement, EN.unknown_enforcement,
                    "{language} is not translated"
                );
            }
        }
    }
}
