//! What the appellant's status page says, in each language Redress ships. The page itself
//! is served by the binary; its words live here, beside the notices', so that a language is
//! added in one place and checked by one test.

use redress_core::{AppealState, Outcome};
use redress_engine::transparency::{HistoryStep, InformationRefusal};

/// The status page's words in one language. `{name}` marks a value.
#[derive(Debug)]
pub struct StatusPageText {
    /// The language these words are in, for the page's `lang` attribute.
    pub language: &'static str,
    /// The page's title and the lookup form's heading.
    pub title: &'static str,
    pub reference: &'static str,
    pub token: &'static str,
    pub show: &'static str,
    /// `{reference}`.
    pub appeal: &'static str,
    pub state: &'static str,
    /// `{date}`.
    pub decision_due: &'static str,
    /// The decision forecast: `{earliest}`, `{latest}`, `{ahead}` (cases ahead).
    pub forecast: &'static str,
    pub appealed: &'static str,
    pub automated: &'static str,
    pub question: &'static str,
    /// `{outcome}`.
    pub decision: &'static str,
    pub statement: &'static str,
    pub still_open: &'static str,
    pub history: &'static str,
    pub add: &'static str,
    pub add_label: &'static str,
    pub send: &'static str,
    pub thanks: &'static str,
    pub too_many: &'static str,
    pub server_error: &'static str,
    pub not_found: &'static str,
    /// Refusals of what the appellant added.
    pub information_empty: &'static str,
    /// `{max}`.
    pub information_too_long: &'static str,
    pub information_closed: &'static str,
    pub states: fn(AppealState) -> &'static str,
    pub expected: fn(AppealState) -> &'static str,
    pub outcome: fn(Outcome) -> &'static str,
    pub steps: fn(HistoryStep) -> &'static str,
}

impl StatusPageText {
    /// Why what the appellant added was refused, in these words.
    pub fn refusal(&self, refusal: InformationRefusal) -> String {
        match refusal {
            InformationRefusal::Empty => self.information_empty.to_owned(),
            InformationRefusal::TooLong { max } => {
                self.information_too_long.replace("{max}", &max.to_string())
            }
            InformationRefusal::Closed { .. } => self.information_closed.to_owned(),
        }
    }

    /// Every plain text with its name, for checking translations against English.
    pub fn fields(&self) -> Vec<(&'static str, &'static str)> {
        let mut fields = vec![
            ("title", self.title),
            ("reference", self.reference),
            ("token", self.token),
            ("show", self.show),
            ("appeal", self.appeal),
            ("state", self.state),
            ("decision_due", self.decision_due),
            ("forecast", self.forecast),
            ("appealed", self.appealed),
            ("automated", self.automated),
            ("question", self.question),
            ("decision", self.decision),
            ("statement", self.statement),
            ("still_open", self.still_open),
            ("history", self.history),
            ("add", self.add),
            ("add_label", self.add_label),
            ("send", self.send),
            ("thanks", self.thanks),
            ("too_many", self.too_many),
            ("server_error", self.server_error),
            ("not_found", self.not_found),
            ("information_empty", self.information_empty),
            ("information_too_long", self.information_too_long),
            ("information_closed", self.information_closed),
        ];
        for state in AppealState::ALL {
            fields.push(("states", (self.states)(*state)));
            fields.push(("expected", (self.expected)(*state)));
        }
        for outcome in [Outcome::Uphold, Outcome::Restore] {
            fields.push(("outcome", (self.outcome)(outcome)));
        }
        for step in HistoryStep::ALL {
            fields.push(("steps", (self.steps)(*step)));
        }
        fields
    }
}

/// The page's words in `language`, when Redress ships it.
pub fn text_for(language: &str) -> Option<&'static StatusPageText> {
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

/// The first shipped language of an `Accept-Language` header, for pages shown before the
/// case (and so its language) is known.
pub fn accepted_language(header: &str) -> Option<&'static str> {
    redress_core::language::accepted_language(header)
}

use AppealState as S;
use HistoryStep as H;

pub const EN: StatusPageText = StatusPageText {
    language: "en",
    title: "Your appeal",
    reference: "Reference",
    token: "Token from your acknowledgement",
    show: "Show",
    appeal: "Appeal {reference}",
    state: "State",
    decision_due: "Expected decision by {date}.",
    forecast: "At the pace of recent decisions, a decision is most likely between {earliest} and {latest}. Cases ahead of yours: {ahead}.",
    appealed: "The decision you appealed",
    automated: "Automated",
    question: "Our question",
    decision: "Decision: {outcome}",
    statement: "Statement of reasons",
    still_open: "You can still:",
    history: "History",
    add: "Add information",
    add_label: "What you want the reviewer to know",
    send: "Send",
    thanks: "Thank you: your information was added to the case.",
    too_many: "Too many attempts on this reference. Try again in a minute.",
    server_error: "Something went wrong on our side. Please try again later.",
    not_found: "No appeal matches this reference and token.",
    information_empty: "Please write something before sending.",
    information_too_long: "What you wrote is longer than {max} bytes; please shorten it and send it again.",
    information_closed: "This appeal is closed and takes no more information.",
    states: |s| match s {
        S::Filed => "Received, waiting for a reviewer",
        S::Triaged => "In the review queue",
        S::AwaitingUser => "Waiting for your answer",
        S::Reviewed => "Decided, the decision is being confirmed",
        S::Restored => "Decided: restored",
        S::Upheld => "Decided: the original decision stands",
        S::Withdrawn => "Closed",
    },
    expected: |s| match s {
        S::Filed | S::Triaged => {
            "A reviewer will look at your appeal. You can add information below at any time."
        }
        S::AwaitingUser => {
            "We need information from you to continue: please answer the question below."
        }
        S::Reviewed => "A decision was taken and is being confirmed.",
        S::Restored => "Your account or content was restored. Nothing more is needed.",
        S::Upheld => {
            "The decision was upheld. The statement of reasons says how you can take this further."
        }
        S::Withdrawn => "This appeal is closed.",
    },
    outcome: |o| match o {
        Outcome::Uphold => "the original decision stands",
        Outcome::Restore => "restored",
    },
    steps: HistoryStep::in_words,
};

pub const DE: StatusPageText = StatusPageText {
    language: "de",
    title: "Ihr Einspruch",
    reference: "Aktenzeichen",
    token: "Schlüssel aus Ihrer Eingangsbestätigung",
    show: "Anzeigen",
    appeal: "Einspruch {reference}",
    state: "Stand",
    decision_due: "Entscheidung voraussichtlich bis {date}.",
    forecast: "Beim Tempo der letzten Entscheidungen fällt die Entscheidung am wahrscheinlichsten zwischen {earliest} und {latest}. Fälle vor Ihrem: {ahead}.",
    appealed: "Die Entscheidung, gegen die Sie Einspruch eingelegt haben",
    automated: "Automatisiert",
    question: "Unsere Frage",
    decision: "Entscheidung: {outcome}",
    statement: "Begründung",
    still_open: "Sie können weiterhin:",
    history: "Verlauf",
    add: "Informationen ergänzen",
    add_label: "Was die Prüferin oder der Prüfer wissen soll",
    send: "Senden",
    thanks: "Vielen Dank: Ihre Informationen wurden dem Vorgang hinzugefügt.",
    too_many:
        "Zu viele Versuche mit diesem Aktenzeichen. Bitte versuchen Sie es in einer Minute erneut.",
    server_error: "Bei uns ist ein Fehler aufgetreten. Bitte versuchen Sie es später erneut.",
    not_found: "Zu diesem Aktenzeichen und Schlüssel gibt es keinen Einspruch.",
    information_empty: "Bitte schreiben Sie etwas, bevor Sie senden.",
    information_too_long: "Ihr Text ist länger als {max} Bytes; bitte kürzen Sie ihn und senden Sie ihn erneut.",
    information_closed: "Dieser Einspruch ist abgeschlossen und nimmt keine weiteren Angaben an.",
    states: |s| match s {
        S::Filed => "Eingegangen, wartet auf Prüfung",
        S::Triaged => "In der Prüfwarteschlange",
        S::AwaitingUser => "Wartet auf Ihre Antwort",
        S::Reviewed => "Entschieden, die Entscheidung wird bestätigt",
        S::Restored => "Entschieden: wiederhergestellt",
        S::Upheld => "Entschieden: die ursprüngliche Entscheidung bleibt bestehen",
        S::Withdrawn => "Abgeschlossen",
    },
    expected: |s| {
        match s {
        S::Filed | S::Triaged => {
            "Ein Mensch wird Ihren Einspruch prüfen. Sie können unten jederzeit Informationen ergänzen."
        }
        S::AwaitingUser => {
            "Um fortzufahren, brauchen wir Informationen von Ihnen: Bitte beantworten Sie die Frage unten."
        }
        S::Reviewed => "Eine Entscheidung wurde getroffen und wird bestätigt.",
        S::Restored => "Ihr Konto oder Inhalt wurde wiederhergestellt. Sie müssen nichts weiter tun.",
        S::Upheld => {
            "Die Entscheidung bleibt bestehen. Die Begründung sagt, wie Sie weiter vorgehen können."
        }
        S::Withdrawn => "Dieser Einspruch ist abgeschlossen.",
    }
    },
    outcome: |o| match o {
        Outcome::Uphold => "die ursprüngliche Entscheidung bleibt bestehen",
        Outcome::Restore => "wiederhergestellt",
    },
    steps: |s| match s {
        H::Received => "Wir haben Ihren Einspruch erhalten.",
        H::Queued => "Ihr Einspruch wurde in eine Prüfwarteschlange eingereiht.",
        H::InformationRequested => "Wir haben Sie um weitere Informationen gebeten.",
        H::AnswerReceived => "Ihre Antwort ist eingegangen, die Prüfung ging weiter.",
        H::InformationSent => "Sie haben uns Informationen gesendet.",
        H::Decided => "Über Ihren Einspruch wurde entschieden.",
        H::Upheld => "Die ursprüngliche Entscheidung wurde bestätigt.",
        H::Restored => "Ihr Konto oder Inhalt wurde wiederhergestellt.",
        H::Reopened => "Ihr Einspruch wurde wieder aufgenommen.",
        H::Closed => "Ihr Einspruch wurde geschlossen.",
        H::Escalated => "Ihr Einspruch wurde an eine erfahrenere Prüfstelle weitergegeben.",
        H::AccountConnected => "Ihr Konto wurde mit diesem Einspruch verbunden.",
    },
};

pub const FR: StatusPageText = StatusPageText {
    language: "fr",
    title: "Votre recours",
    reference: "Référence",
    token: "Clé figurant dans votre accusé de réception",
    show: "Afficher",
    appeal: "Recours {reference}",
    state: "État",
    decision_due: "Décision attendue d'ici le {date}.",
    forecast: "Au rythme des décisions récentes, la décision interviendra le plus probablement entre le {earliest} et le {latest}. Dossiers avant le vôtre : {ahead}.",
    appealed: "La décision que vous contestez",
    automated: "Automatisation",
    question: "Notre question",
    decision: "Décision : {outcome}",
    statement: "Exposé des motifs",
    still_open: "Vous pouvez encore :",
    history: "Historique",
    add: "Ajouter des informations",
    add_label: "Ce que vous souhaitez faire savoir à la personne chargée de l'examen",
    send: "Envoyer",
    thanks: "Merci : vos informations ont été ajoutées au dossier.",
    too_many: "Trop de tentatives pour cette référence. Réessayez dans une minute.",
    server_error: "Une erreur s'est produite de notre côté. Veuillez réessayer plus tard.",
    not_found: "Aucun recours ne correspond à cette référence et à cette clé.",
    information_empty: "Veuillez écrire quelque chose avant d'envoyer.",
    information_too_long: "Votre texte dépasse {max} octets ; veuillez le raccourcir et l'envoyer à nouveau.",
    information_closed: "Ce recours est clos et n'accepte plus d'informations.",
    states: |s| match s {
        S::Filed => "Reçu, en attente d'examen",
        S::Triaged => "Dans la file d'examen",
        S::AwaitingUser => "En attente de votre réponse",
        S::Reviewed => "Décidé, la décision est en cours de confirmation",
        S::Restored => "Décidé : rétabli",
        S::Upheld => "Décidé : la décision initiale est maintenue",
        S::Withdrawn => "Clôturé",
    },
    expected: |s| {
        match s {
        S::Filed | S::Triaged => {
            "Une personne examinera votre recours. Vous pouvez ajouter des informations ci-dessous à tout moment."
        }
        S::AwaitingUser => {
            "Nous avons besoin d'informations de votre part pour continuer : merci de répondre à la question ci-dessous."
        }
        S::Reviewed => "Une décision a été prise et est en cours de confirmation.",
        S::Restored => "Votre compte ou votre contenu a été rétabli. Vous n'avez rien d'autre à faire.",
        S::Upheld => {
            "La décision a été maintenue. L'exposé des motifs indique les voies de recours qui vous restent ouvertes."
        }
        S::Withdrawn => "Ce recours est clôturé.",
    }
    },
    outcome: |o| match o {
        Outcome::Uphold => "la décision initiale est maintenue",
        Outcome::Restore => "rétabli",
    },
    steps: |s| match s {
        H::Received => "Nous avons reçu votre recours.",
        H::Queued => "Votre recours a été placé dans une file d'examen.",
        H::InformationRequested => "Des informations complémentaires vous ont été demandées.",
        H::AnswerReceived => "Votre réponse est arrivée et l'examen a repris.",
        H::InformationSent => "Vous nous avez envoyé des informations.",
        H::Decided => "Une décision a été prise sur votre recours.",
        H::Upheld => "La décision initiale a été confirmée.",
        H::Restored => "Votre compte ou votre contenu a été rétabli.",
        H::Reopened => "Votre recours a été rouvert.",
        H::Closed => "Votre recours a été clôturé.",
        H::Escalated => "Votre recours a été transmis à une personne plus expérimentée.",
        H::AccountConnected => "Votre compte a été relié à ce recours.",
    },
};

pub const ES: StatusPageText = StatusPageText {
    language: "es",
    title: "Su recurso",
    reference: "Referencia",
    token: "Clave de su acuse de recibo",
    show: "Mostrar",
    appeal: "Recurso {reference}",
    state: "Estado",
    decision_due: "Decisión prevista antes del {date}.",
    forecast: "Al ritmo de las decisiones recientes, lo más probable es que la decisión llegue entre el {earliest} y el {latest}. Casos por delante del suyo: {ahead}.",
    appealed: "La decisión que recurre",
    automated: "Automatización",
    question: "Nuestra pregunta",
    decision: "Decisión: {outcome}",
    statement: "Exposición de motivos",
    still_open: "Todavía puede:",
    history: "Historial",
    add: "Añadir información",
    add_label: "Lo que quiere que sepa la persona que revisa su caso",
    send: "Enviar",
    thanks: "Gracias: su información se ha añadido al caso.",
    too_many: "Demasiados intentos con esta referencia. Vuelva a intentarlo dentro de un minuto.",
    server_error: "Se ha producido un error por nuestra parte. Vuelva a intentarlo más tarde.",
    not_found: "Ningún recurso coincide con esta referencia y esta clave.",
    information_empty: "Escriba algo antes de enviar.",
    information_too_long: "Su texto supera los {max} bytes; acórtelo y envíelo de nuevo.",
    information_closed: "Este recurso está cerrado y no admite más información.",
    states: |s| match s {
        S::Filed => "Recibido, a la espera de revisión",
        S::Triaged => "En la cola de revisión",
        S::AwaitingUser => "A la espera de su respuesta",
        S::Reviewed => "Resuelto, la decisión se está confirmando",
        S::Restored => "Resuelto: restablecido",
        S::Upheld => "Resuelto: la decisión original se mantiene",
        S::Withdrawn => "Cerrado",
    },
    expected: |s| {
        match s {
        S::Filed | S::Triaged => {
            "Una persona revisará su recurso. Puede añadir información más abajo en cualquier momento."
        }
        S::AwaitingUser => {
            "Necesitamos información suya para continuar: responda a la pregunta que figura más abajo."
        }
        S::Reviewed => "Se ha tomado una decisión y se está confirmando.",
        S::Restored => "Su cuenta o su contenido se ha restablecido. No tiene que hacer nada más.",
        S::Upheld => {
            "La decisión se ha mantenido. La exposición de motivos indica cómo puede seguir adelante."
        }
        S::Withdrawn => "Este recurso está cerrado.",
    }
    },
    outcome: |o| match o {
        Outcome::Uphold => "la decisión original se mantiene",
        Outcome::Restore => "restablecido",
    },
    steps: |s| match s {
        H::Received => "Hemos recibido su recurso.",
        H::Queued => "Su recurso se ha incluido en una cola de revisión.",
        H::InformationRequested => "Se le ha pedido más información.",
        H::AnswerReceived => "Su respuesta ha llegado y la revisión ha continuado.",
        H::InformationSent => "Nos ha enviado información.",
        H::Decided => "Se ha resuelto su recurso.",
        H::Upheld => "Se ha confirmado la decisión original.",
        H::Restored => "Su cuenta o su contenido se ha restablecido.",
        H::Reopened => "Su recurso se ha reabierto.",
        H::Closed => "Su recurso se ha cerrado.",
        H::Escalated => "Su recurso se ha remitido a una persona con más experiencia.",
        H::AccountConnected => "Su cuenta se ha vinculado a este recurso.",
    },
};

pub const IT: StatusPageText = StatusPageText {
    language: "it",
    title: "Il Suo ricorso",
    reference: "Riferimento",
    token: "Chiave indicata nella conferma di ricezione",
    show: "Mostra",
    appeal: "Ricorso {reference}",
    state: "Stato",
    decision_due: "Decisione prevista entro il {date}.",
    forecast: "Al ritmo delle decisioni recenti, la decisione arriverà con ogni probabilità tra il {earliest} e il {latest}. Casi prima del suo: {ahead}.",
    appealed: "La decisione che ha contestato",
    automated: "Automazione",
    question: "La nostra domanda",
    decision: "Decisione: {outcome}",
    statement: "Motivazione",
    still_open: "Può ancora:",
    history: "Cronologia",
    add: "Aggiungere informazioni",
    add_label: "Che cosa desidera far sapere a chi esamina il ricorso",
    send: "Invia",
    thanks: "Grazie: le Sue informazioni sono state aggiunte alla pratica.",
    too_many: "Troppi tentativi con questo riferimento. Riprovi tra un minuto.",
    server_error: "Si è verificato un errore da parte nostra. La preghiamo di riprovare più tardi.",
    not_found: "Nessun ricorso corrisponde a questo riferimento e a questa chiave.",
    information_empty: "Scriva qualcosa prima di inviare.",
    information_too_long: "Il Suo testo supera i {max} byte; lo accorci e lo invii di nuovo.",
    information_closed: "Questo ricorso è chiuso e non accetta altre informazioni.",
    states: |s| match s {
        S::Filed => "Ricevuto, in attesa di esame",
        S::Triaged => "In coda per l'esame",
        S::AwaitingUser => "In attesa della Sua risposta",
        S::Reviewed => "Deciso, la decisione è in fase di conferma",
        S::Restored => "Deciso: ripristinato",
        S::Upheld => "Deciso: la decisione originale resta valida",
        S::Withdrawn => "Chiuso",
    },
    expected: |s| {
        match s {
        S::Filed | S::Triaged => {
            "Una persona esaminerà il Suo ricorso. Può aggiungere informazioni qui sotto in qualsiasi momento."
        }
        S::AwaitingUser => {
            "Per procedere ci servono informazioni da parte Sua: risponda alla domanda qui sotto."
        }
        S::Reviewed => "È stata presa una decisione, che è in fase di conferma.",
        S::Restored => "Il Suo account o contenuto è stato ripristinato. Non deve fare altro.",
        S::Upheld => {
            "La decisione è stata confermata. La motivazione indica come può procedere."
        }
        S::Withdrawn => "Questo ricorso è chiuso.",
    }
    },
    outcome: |o| match o {
        Outcome::Uphold => "la decisione originale resta valida",
        Outcome::Restore => "ripristinato",
    },
    steps: |s| match s {
        H::Received => "Abbiamo ricevuto il Suo ricorso.",
        H::Queued => "Il Suo ricorso è stato inserito in una coda di esame.",
        H::InformationRequested => "Le sono state chieste altre informazioni.",
        H::AnswerReceived => "La Sua risposta è arrivata e l'esame è proseguito.",
        H::InformationSent => "Ci ha inviato informazioni.",
        H::Decided => "È stata presa una decisione sul Suo ricorso.",
        H::Upheld => "La decisione originale è stata confermata.",
        H::Restored => "Il Suo account o contenuto è stato ripristinato.",
        H::Reopened => "Il Suo ricorso è stato riaperto.",
        H::Closed => "Il Suo ricorso è stato chiuso.",
        H::Escalated => "Il Suo ricorso è stato affidato a una persona più esperta.",
        H::AccountConnected => "Il Suo account è stato collegato a questo ricorso.",
    },
};

pub const PT: StatusPageText = StatusPageText {
    language: "pt",
    title: "O seu recurso",
    reference: "Referência",
    token: "Chave indicada no aviso de receção",
    show: "Mostrar",
    appeal: "Recurso {reference}",
    state: "Estado",
    decision_due: "Decisão prevista até {date}.",
    forecast: "Ao ritmo das decisões recentes, o mais provável é que a decisão chegue entre {earliest} e {latest}. Casos à frente do seu: {ahead}.",
    appealed: "A decisão de que recorre",
    automated: "Automatização",
    question: "A nossa pergunta",
    decision: "Decisão: {outcome}",
    statement: "Exposição de motivos",
    still_open: "Ainda pode:",
    history: "Histórico",
    add: "Acrescentar informações",
    add_label: "O que quer que a pessoa que analisa o recurso saiba",
    send: "Enviar",
    thanks: "Obrigado: as suas informações foram acrescentadas ao processo.",
    too_many: "Demasiadas tentativas com esta referência. Tente novamente dentro de um minuto.",
    server_error: "Ocorreu um erro do nosso lado. Tente novamente mais tarde.",
    not_found: "Nenhum recurso corresponde a esta referência e a esta chave.",
    information_empty: "Escreva algo antes de enviar.",
    information_too_long: "O seu texto tem mais de {max} bytes; encurte-o e envie-o novamente.",
    information_closed: "Este recurso está encerrado e não aceita mais informações.",
    states: |s| match s {
        S::Filed => "Recebido, a aguardar análise",
        S::Triaged => "Na fila de análise",
        S::AwaitingUser => "A aguardar a sua resposta",
        S::Reviewed => "Decidido, a decisão está a ser confirmada",
        S::Restored => "Decidido: restabelecido",
        S::Upheld => "Decidido: a decisão original mantém-se",
        S::Withdrawn => "Encerrado",
    },
    expected: |s| {
        match s {
        S::Filed | S::Triaged => {
            "Uma pessoa irá analisar o seu recurso. Pode acrescentar informações abaixo a qualquer momento."
        }
        S::AwaitingUser => {
            "Precisamos de informações suas para continuar: responda à pergunta abaixo."
        }
        S::Reviewed => "Foi tomada uma decisão, que está a ser confirmada.",
        S::Restored => "A sua conta ou o seu conteúdo foi restabelecido. Não precisa de fazer mais nada.",
        S::Upheld => {
            "A decisão foi mantida. A exposição de motivos indica como pode prosseguir."
        }
        S::Withdrawn => "Este recurso está encerrado.",
    }
    },
    outcome: |o| match o {
        Outcome::Uphold => "a decisão original mantém-se",
        Outcome::Restore => "restabelecido",
    },
    steps: |s| match s {
        H::Received => "Recebemos o seu recurso.",
        H::Queued => "O seu recurso foi colocado numa fila de análise.",
        H::InformationRequested => "Foram-lhe pedidas mais informações.",
        H::AnswerReceived => "A sua resposta chegou e a análise prosseguiu.",
        H::InformationSent => "Enviou-nos informações.",
        H::Decided => "Foi tomada uma decisão sobre o seu recurso.",
        H::Upheld => "A decisão original foi confirmada.",
        H::Restored => "A sua conta ou o seu conteúdo foi restabelecido.",
        H::Reopened => "O seu recurso foi reaberto.",
        H::Closed => "O seu recurso foi encerrado.",
        H::Escalated => "O seu recurso foi encaminhado para uma pessoa mais experiente.",
        H::AccountConnected => "A sua conta foi associada a este recurso.",
    },
};

pub const NL: StatusPageText = StatusPageText {
    language: "nl",
    title: "Uw bezwaar",
    reference: "Kenmerk",
    token: "Sleutel uit uw ontvangstbevestiging",
    show: "Tonen",
    appeal: "Bezwaar {reference}",
    state: "Status",
    decision_due: "Besluit verwacht uiterlijk {date}.",
    forecast: "In het tempo van de recente beslissingen valt het besluit waarschijnlijk tussen {earliest} en {latest}. Zaken vóór de uwe: {ahead}.",
    appealed: "Het besluit waartegen u bezwaar maakt",
    automated: "Geautomatiseerd",
    question: "Onze vraag",
    decision: "Besluit: {outcome}",
    statement: "Motivering",
    still_open: "U kunt nog:",
    history: "Geschiedenis",
    add: "Informatie toevoegen",
    add_label: "Wat de beoordelaar moet weten",
    send: "Versturen",
    thanks: "Dank u: uw informatie is aan de zaak toegevoegd.",
    too_many: "Te veel pogingen met dit kenmerk. Probeer het over een minuut opnieuw.",
    server_error: "Er ging bij ons iets mis. Probeer het later opnieuw.",
    not_found: "Geen bezwaar past bij dit kenmerk en deze sleutel.",
    information_empty: "Schrijf iets voordat u verzendt.",
    information_too_long: "Uw tekst is langer dan {max} bytes; maak hem korter en verzend hem opnieuw.",
    information_closed: "Dit bezwaar is afgesloten en neemt geen informatie meer aan.",
    states: |s| match s {
        S::Filed => "Ontvangen, wacht op beoordeling",
        S::Triaged => "In de wachtrij voor beoordeling",
        S::AwaitingUser => "Wacht op uw antwoord",
        S::Reviewed => "Besloten, het besluit wordt bevestigd",
        S::Restored => "Besloten: hersteld",
        S::Upheld => "Besloten: het oorspronkelijke besluit blijft staan",
        S::Withdrawn => "Afgesloten",
    },
    expected: |s| match s {
        S::Filed | S::Triaged => {
            "Een mens beoordeelt uw bezwaar. U kunt hieronder op elk moment informatie toevoegen."
        }
        S::AwaitingUser => {
            "Om verder te gaan hebben wij informatie van u nodig: beantwoord de vraag hieronder."
        }
        S::Reviewed => "Er is een besluit genomen; het wordt bevestigd.",
        S::Restored => "Uw account of inhoud is hersteld. U hoeft niets meer te doen.",
        S::Upheld => "Het besluit blijft staan. De motivering vermeldt hoe u verder kunt gaan.",
        S::Withdrawn => "Dit bezwaar is afgesloten.",
    },
    outcome: |o| match o {
        Outcome::Uphold => "het oorspronkelijke besluit blijft staan",
        Outcome::Restore => "hersteld",
    },
    steps: |s| match s {
        H::Received => "Wij hebben uw bezwaar ontvangen.",
        H::Queued => "Uw bezwaar is in een wachtrij voor beoordeling geplaatst.",
        H::InformationRequested => "U is om meer informatie gevraagd.",
        H::AnswerReceived => "Uw antwoord is binnengekomen en de beoordeling ging verder.",
        H::InformationSent => "U hebt ons informatie gestuurd.",
        H::Decided => "Er is over uw bezwaar besloten.",
        H::Upheld => "Het oorspronkelijke besluit is bevestigd.",
        H::Restored => "Uw account of inhoud is hersteld.",
        H::Reopened => "Uw bezwaar is heropend.",
        H::Closed => "Uw bezwaar is afgesloten.",
        H::Escalated => "Uw bezwaar is doorgegeven aan een ervaren beoordelaar.",
        H::AccountConnected => "Uw account is aan dit bezwaar gekoppeld.",
    },
};

pub const PL: StatusPageText = StatusPageText {
    language: "pl",
    title: "Państwa odwołanie",
    reference: "Numer referencyjny",
    token: "Klucz z potwierdzenia otrzymania",
    show: "Pokaż",
    appeal: "Odwołanie {reference}",
    state: "Status",
    decision_due: "Decyzja przewidywana do {date}.",
    forecast: "Przy tempie ostatnich rozstrzygnięć decyzja zapadnie najprawdopodobniej między {earliest} a {latest}. Sprawy przed Państwa sprawą: {ahead}.",
    appealed: "Decyzja, od której się Państwo odwołują",
    automated: "Automatyzacja",
    question: "Nasze pytanie",
    decision: "Decyzja: {outcome}",
    statement: "Uzasadnienie",
    still_open: "Nadal mogą Państwo:",
    history: "Historia",
    add: "Dodaj informacje",
    add_label: "Co powinna wiedzieć osoba rozpatrująca odwołanie",
    send: "Wyślij",
    thanks: "Dziękujemy: Państwa informacje zostały dodane do sprawy.",
    too_many:
        "Zbyt wiele prób dla tego numeru referencyjnego. Prosimy spróbować ponownie za minutę.",
    server_error: "Wystąpił błąd po naszej stronie. Prosimy spróbować ponownie później.",
    not_found: "Żadne odwołanie nie pasuje do tego numeru referencyjnego i klucza.",
    information_empty: "Prosimy coś wpisać przed wysłaniem.",
    information_too_long: "Państwa tekst jest dłuższy niż {max} bajtów; prosimy go skrócić i wysłać ponownie.",
    information_closed: "To odwołanie jest zamknięte i nie przyjmuje więcej informacji.",
    states: |s| match s {
        S::Filed => "Otrzymane, czeka na rozpatrzenie",
        S::Triaged => "W kolejce do rozpatrzenia",
        S::AwaitingUser => "Czeka na Państwa odpowiedź",
        S::Reviewed => "Rozstrzygnięte, decyzja jest zatwierdzana",
        S::Restored => "Rozstrzygnięte: przywrócono",
        S::Upheld => "Rozstrzygnięte: pierwotna decyzja zostaje utrzymana",
        S::Withdrawn => "Zamknięte",
    },
    expected: |s| {
        match s {
        S::Filed | S::Triaged => {
            "Odwołanie rozpatrzy człowiek. W każdej chwili mogą Państwo dodać informacje poniżej."
        }
        S::AwaitingUser => {
            "Aby kontynuować, potrzebujemy od Państwa informacji: prosimy odpowiedzieć na pytanie poniżej."
        }
        S::Reviewed => "Decyzja została podjęta i jest zatwierdzana.",
        S::Restored => "Państwa konto lub treść zostały przywrócone. Nie trzeba nic więcej robić.",
        S::Upheld => {
            "Decyzja została utrzymana. Uzasadnienie wskazuje, jakie dalsze kroki mogą Państwo podjąć."
        }
        S::Withdrawn => "To odwołanie jest zamknięte.",
    }
    },
    outcome: |o| match o {
        Outcome::Uphold => "pierwotna decyzja zostaje utrzymana",
        Outcome::Restore => "przywrócono",
    },
    steps: |s| match s {
        H::Received => "Otrzymaliśmy Państwa odwołanie.",
        H::Queued => "Odwołanie trafiło do kolejki do rozpatrzenia.",
        H::InformationRequested => "Poprosiliśmy Państwa o dodatkowe informacje.",
        H::AnswerReceived => "Państwa odpowiedź dotarła i rozpatrywanie było kontynuowane.",
        H::InformationSent => "Przesłali nam Państwo informacje.",
        H::Decided => "W sprawie odwołania zapadła decyzja.",
        H::Upheld => "Pierwotna decyzja została potwierdzona.",
        H::Restored => "Państwa konto lub treść zostały przywrócone.",
        H::Reopened => "Odwołanie zostało wznowione.",
        H::Closed => "Odwołanie zostało zamknięte.",
        H::Escalated => "Odwołanie przekazano bardziej doświadczonej osobie.",
        H::AccountConnected => "Państwa konto zostało powiązane z tym odwołaniem.",
    },
};

pub const JA: StatusPageText = StatusPageText {
    language: "ja",
    title: "異議申し立て",
    reference: "受付番号",
    token: "受付確認に記載されたキー",
    show: "表示",
    appeal: "異議申し立て {reference}",
    state: "状況",
    decision_due: "判断予定日：{date}",
    forecast: "最近の判断のペースでは、判断は{earliest}から{latest}の間になる見込みです。あなたより前の案件：{ahead}件",
    appealed: "異議を申し立てた措置",
    automated: "自動化",
    question: "当社からの質問",
    decision: "判断：{outcome}",
    statement: "理由の説明",
    still_open: "引き続き次の手段をお取りいただけます：",
    history: "経過",
    add: "情報を追加",
    add_label: "審査担当者に伝えたいこと",
    send: "送信",
    thanks: "ありがとうございます。お寄せいただいた情報を案件に追加しました。",
    too_many: "この受付番号での試行回数が多すぎます。1分後にもう一度お試しください。",
    server_error: "当社側でエラーが発生しました。しばらくしてからもう一度お試しください。",
    not_found: "この受付番号とキーに一致する異議申し立てはありません。",
    information_empty: "送信する前に内容をご記入ください。",
    information_too_long: "入力された内容が {max} バイトを超えています。短くしてから再度送信してください。",
    information_closed: "この異議申し立ては終了しているため、情報を追加できません。",
    states: |s| match s {
        S::Filed => "受付済み、審査待ち",
        S::Triaged => "審査待ちの列に入っています",
        S::AwaitingUser => "お客様のご回答待ち",
        S::Reviewed => "判断済み、確認中",
        S::Restored => "判断済み：復元",
        S::Upheld => "判断済み：当初の措置を維持",
        S::Withdrawn => "終了",
    },
    expected: |s| match s {
        S::Filed | S::Triaged => {
            "担当者が異議申し立てを審査します。下のフォームからいつでも情報を追加できます。"
        }
        S::AwaitingUser => {
            "手続きを進めるため、お客様からの情報が必要です。下の質問にご回答ください。"
        }
        S::Reviewed => "判断が行われ、現在確認中です。",
        S::Restored => "アカウントまたはコンテンツを復元しました。これ以上のお手続きは不要です。",
        S::Upheld => {
            "当初の措置が維持されました。今後お取りいただける手段は理由の説明に記載されています。"
        }
        S::Withdrawn => "この異議申し立ては終了しています。",
    },
    outcome: |o| match o {
        Outcome::Uphold => "当初の措置を維持",
        Outcome::Restore => "復元",
    },
    steps: |s| match s {
        H::Received => "異議申し立てを受け付けました。",
        H::Queued => "異議申し立てが審査待ちの列に入りました。",
        H::InformationRequested => "追加の情報をお願いしました。",
        H::AnswerReceived => "ご回答を受け取り、審査を再開しました。",
        H::InformationSent => "情報をお送りいただきました。",
        H::Decided => "異議申し立てについて判断が行われました。",
        H::Upheld => "当初の措置が確認されました。",
        H::Restored => "アカウントまたはコンテンツを復元しました。",
        H::Reopened => "異議申し立ての審査を再開しました。",
        H::Closed => "異議申し立てを終了しました。",
        H::Escalated => "異議申し立てを上級の審査担当者に引き継ぎました。",
        H::AccountConnected => "アカウントがこの異議申し立てに関連付けられました。",
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> std::collections::BTreeSet<&str> {
        text.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect()
    }

    #[test]
    fn every_shipped_language_has_every_status_page_string() {
        let english = EN.fields();
        for language in redress_core::language::SHIPPED {
            let text = text_for(language)
                .unwrap_or_else(|| panic!("no status page strings in {language}"));
            let fields = text.fields();
            assert_eq!(fields.len(), english.len());
            for ((name, ours), (_, theirs)) in fields.iter().zip(&english) {
                assert!(!ours.trim().is_empty(), "{language}/{name} is empty");
                assert_eq!(
                    values(ours),
                    values(theirs),
                    "{language}/{name}: values differ from en"
                );
                if *language != "en" {
                    assert_ne!(ours, theirs, "{language}/{name} is not translated");
                }
            }
        }
    }

    #[test]
    fn the_accepted_language_is_the_first_shipped_one() {
        assert_eq!(
            accepted_language("sv-SE, de-AT;q=0.8, en;q=0.5"),
            Some("de")
        );
        assert_eq!(accepted_language("ja"), Some("ja"));
        assert_eq!(accepted_language("sv, *;q=0.1"), None);
        assert_eq!(accepted_language(&"x".repeat(100_000)), None);
    }
}
