//! What a DM says, in each language Redress ships. Formal address where the language has
//! one (Sie, vous, usted, Lei, u, Państwo, です・ます).

use super::text::DmTexts;

pub(crate) const EN: DmTexts = DmTexts {
    acknowledgement: "We received your appeal. Its reference is {reference}. A person will \
        review it and we will answer here. You can add anything you want us to know by \
        replying.",
    information_request: "About your appeal {reference}: the reviewer needs more information. \
        Please reply to this message; your appeal waits for your answer.",
    decision_upheld: "Your appeal {reference} was reviewed and the decision stands. The \
        statement of reasons explains the policy and the facts it rests on; you can ask for it \
        here.",
    decision_restored: "Your appeal {reference} was successful: your account has been \
        restored. We are sorry for the trouble.",
    reopened: "Your appeal {reference} has been reopened and will be reviewed again.",
    closed_no_response: "Your appeal {reference} was closed because we did not hear back. Send \
        us a new message at any time to appeal again.",
    about_your_appeal: "About your appeal {reference}: {reason}",
    account_restored: "Your account has been restored. An enforcement that affected it was \
        found to be wrong and reversed. We are sorry for the trouble.",
    throttled: "Several of your appeals were found manifestly unfounded, so new appeals from \
        your account are not accepted for a while.",
    refused_until: "Several of your appeals were found manifestly unfounded. New appeals from your account will not be accepted until {date}. Messages about appeals already open are still read.",
    concerns: " It concerns our decision of {date} ({restriction}) under the policy \
        \"{policy}\". Automated detection: {detection}; automated decision: {decision}.",
    expect_decision: " Expect a decision by {date}.",
    reasons: " Reasons: {reasons}",
    redress: " If you disagree you can still turn to a certified out-of-court dispute \
        settlement body{bodies} or to a court.",
    status_link: "\n\nYour appeal, its history and a form to add information: {link}",
    ask_for_email: "To connect this conversation to your account (appeal {reference}), reply \
        with the email address of your account. We will send a confirmation link to that \
        address.",
    confirmation_sent: "Thank you. If that address belongs to an account, we sent it a link; \
        open it to connect this conversation to appeal {reference}.",
    identity_linked: "Your account is now connected to appeal {reference}. We will answer here.",
};

pub(crate) const DE: DmTexts = DmTexts {
    acknowledgement: "Wir haben Ihren Einspruch erhalten. Das Aktenzeichen lautet \
        {reference}. Ein Mensch wird ihn prüfen, und wir antworten Ihnen hier. Wenn Sie uns \
        noch etwas mitteilen möchten, antworten Sie einfach auf diese Nachricht.",
    information_request: "Zu Ihrem Einspruch {reference}: Die Prüferin oder der Prüfer \
        benötigt weitere Informationen. Bitte antworten Sie auf diese Nachricht; Ihr \
        Einspruch wartet auf Ihre Antwort.",
    decision_upheld: "Ihr Einspruch {reference} wurde geprüft, die Entscheidung bleibt \
        bestehen. Die Begründung nennt die Regel und die Tatsachen, auf denen sie beruht; Sie \
        können sie hier anfordern.",
    decision_restored: "Ihr Einspruch {reference} war erfolgreich: Ihr Konto wurde \
        wiederhergestellt. Wir bitten die Unannehmlichkeiten zu entschuldigen.",
    reopened: "Ihr Einspruch {reference} wurde wieder aufgenommen und wird erneut geprüft.",
    closed_no_response: "Ihr Einspruch {reference} wurde geschlossen, weil wir keine Antwort \
        erhalten haben. Sie können jederzeit mit einer neuen Nachricht erneut Einspruch einlegen.",
    about_your_appeal: "Zu Ihrem Einspruch {reference}: {reason}",
    account_restored: "Ihr Konto wurde wiederhergestellt. Eine Maßnahme, die es betraf, hat \
        sich als falsch erwiesen und wurde aufgehoben. Wir bitten die Unannehmlichkeiten zu \
        entschuldigen.",
    throttled: "Mehrere Ihrer Einsprüche waren offensichtlich unbegründet, daher nehmen wir \
        von Ihrem Konto für eine Weile keine neuen Einsprüche an.",
    refused_until: "Mehrere Ihrer Einsprüche waren offensichtlich unbegründet. Neue Einsprüche von Ihrem Konto nehmen wir bis {date} nicht an. Nachrichten zu bereits offenen Einsprüchen lesen wir weiterhin.",
    concerns: " Er betrifft unsere Entscheidung vom {date} ({restriction}) nach der Regel \
        „{policy}“. Automatisch erkannt: {detection}; automatisch entschieden: {decision}.",
    expect_decision: " Sie erhalten eine Entscheidung bis {date}.",
    reasons: " Begründung: {reasons}",
    redress: " Wenn Sie nicht einverstanden sind, können Sie sich weiterhin an eine \
        zertifizierte außergerichtliche Streitbeilegungsstelle{bodies} oder an ein Gericht \
        wenden.",
    status_link: "\n\nIhr Einspruch, sein Verlauf und ein Formular für weitere Informationen: \
        {link}",
    ask_for_email: "Um diese Unterhaltung mit Ihrem Konto zu verbinden (Einspruch \
        {reference}), antworten Sie bitte mit der E-Mail-Adresse Ihres Kontos. Wir senden an \
        diese Adresse einen Bestätigungslink.",
    confirmation_sent: "Vielen Dank. Falls diese Adresse zu einem Konto gehört, haben wir ihr \
        einen Link gesendet; öffnen Sie ihn, um diese Unterhaltung mit dem Einspruch \
        {reference} zu verbinden.",
    identity_linked: "Ihr Konto ist jetzt mit dem Einspruch {reference} verbunden. Wir \
        antworten Ihnen hier.",
};

pub(crate) const FR: DmTexts = DmTexts {
    acknowledgement: "Nous avons bien reçu votre recours. Sa référence est {reference}. Une \
        personne l'examinera et nous vous répondrons ici. Vous pouvez nous faire part de tout \
        élément utile en répondant à ce message.",
    information_request: "Au sujet de votre recours {reference} : la personne chargée de \
        l'examen a besoin d'informations complémentaires. Merci de répondre à ce message ; \
        votre recours attend votre réponse.",
    decision_upheld: "Votre recours {reference} a été examiné et la décision est maintenue. \
        L'exposé des motifs indique la règle et les faits sur lesquels elle repose ; vous \
        pouvez le demander ici.",
    decision_restored: "Votre recours {reference} a abouti : votre compte a été rétabli. Nous \
        vous prions de nous excuser pour ce désagrément.",
    reopened: "Votre recours {reference} a été rouvert et sera examiné à nouveau.",
    closed_no_response: "Votre recours {reference} a été clôturé faute de réponse de votre \
        part. Vous pouvez nous envoyer un nouveau message à tout moment pour former un nouveau \
        recours.",
    about_your_appeal: "Au sujet de votre recours {reference} : {reason}",
    account_restored: "Votre compte a été rétabli. Une mesure qui le concernait s'est révélée \
        erronée et a été annulée. Nous vous prions de nous excuser pour ce désagrément.",
    throttled: "Plusieurs de vos recours ont été jugés manifestement infondés ; les nouveaux \
        recours de votre compte ne sont donc pas acceptés pendant un certain temps.",
    refused_until: "Plusieurs de vos recours ont été jugés manifestement infondés. Les nouveaux recours de votre compte ne seront pas acceptés avant le {date}. Les messages sur les recours déjà ouverts sont toujours lus.",
    concerns: " Il concerne notre décision du {date} ({restriction}) en vertu de la règle \
        « {policy} ». Détection automatisée : {detection} ; décision automatisée : {decision}.",
    expect_decision: " Vous pouvez attendre une décision d'ici le {date}.",
    reasons: " Motifs : {reasons}",
    redress: " Si vous êtes en désaccord, vous pouvez encore vous adresser à un organisme \
        certifié de règlement extrajudiciaire des litiges{bodies} ou à un tribunal.",
    status_link: "\n\nVotre recours, son historique et un formulaire pour ajouter des \
        informations : {link}",
    ask_for_email: "Pour relier cette conversation à votre compte (recours {reference}), \
        répondez avec l'adresse e-mail de votre compte. Nous enverrons un lien de confirmation \
        à cette adresse.",
    confirmation_sent: "Merci. Si cette adresse correspond à un compte, nous lui avons envoyé \
        un lien ; ouvrez-le pour relier cette conversation au recours {reference}.",
    identity_linked: "Votre compte est désormais relié au recours {reference}. Nous vous \
        répondrons ici.",
};

pub(crate) const ES: DmTexts = DmTexts {
    acknowledgement: "Hemos recibido su recurso. Su referencia es {reference}. Una persona lo \
        revisará y le responderemos por aquí. Puede añadir todo lo que quiera que sepamos \
        respondiendo a este mensaje.",
    information_request: "Sobre su recurso {reference}: la persona que lo revisa necesita más \
        información. Le rogamos que responda a este mensaje; su recurso queda a la espera de \
        su respuesta.",
    decision_upheld: "Su recurso {reference} ha sido revisado y la decisión se mantiene. La \
        exposición de motivos explica la norma y los hechos en que se basa; puede solicitarla \
        aquí.",
    decision_restored: "Su recurso {reference} ha prosperado: su cuenta ha sido restablecida. \
        Lamentamos las molestias.",
    reopened: "Su recurso {reference} se ha reabierto y volverá a revisarse.",
    closed_no_response: "Su recurso {reference} se ha cerrado porque no recibimos respuesta. \
        Puede enviarnos un nuevo mensaje en cualquier momento para volver a recurrir.",
    about_your_appeal: "Sobre su recurso {reference}: {reason}",
    account_restored: "Su cuenta ha sido restablecida. Se comprobó que una medida que la \
        afectaba era errónea y se ha revocado. Lamentamos las molestias.",
    throttled: "Varios de sus recursos se consideraron manifiestamente infundados, por lo que \
        durante un tiempo no se aceptarán nuevos recursos de su cuenta.",
    refused_until: "Varios de sus recursos se consideraron manifiestamente infundados. No se aceptarán nuevos recursos de su cuenta hasta el {date}. Seguimos leyendo los mensajes sobre recursos ya abiertos.",
    concerns: " Se refiere a nuestra decisión del {date} ({restriction}) en virtud de la norma \
        «{policy}». Detección automatizada: {detection}; decisión automatizada: {decision}.",
    expect_decision: " Puede esperar una decisión antes del {date}.",
    reasons: " Motivos: {reasons}",
    redress: " Si no está de acuerdo, todavía puede dirigirse a un órgano certificado de \
        resolución extrajudicial de litigios{bodies} o a un tribunal.",
    status_link: "\n\nSu recurso, su historial y un formulario para añadir información: {link}",
    ask_for_email: "Para vincular esta conversación a su cuenta (recurso {reference}), \
        responda con la dirección de correo electrónico de su cuenta. Enviaremos un enlace de \
        confirmación a esa dirección.",
    confirmation_sent: "Gracias. Si esa dirección pertenece a una cuenta, le hemos enviado un \
        enlace; ábralo para vincular esta conversación al recurso {reference}.",
    identity_linked: "Su cuenta ya está vinculada al recurso {reference}. Le responderemos por \
        aquí.",
};

pub(crate) const IT: DmTexts = DmTexts {
    acknowledgement: "Abbiamo ricevuto il Suo ricorso. Il riferimento è {reference}. Una \
        persona lo esaminerà e Le risponderemo qui. Può aggiungere tutto ciò che desidera \
        farci sapere rispondendo a questo messaggio.",
    information_request: "Riguardo al Suo ricorso {reference}: chi lo esamina ha bisogno di \
        altre informazioni. La preghiamo di rispondere a questo messaggio; il ricorso attende \
        la Sua risposta.",
    decision_upheld: "Il Suo ricorso {reference} è stato esaminato e la decisione resta \
        valida. La motivazione indica la regola e i fatti su cui si basa; può richiederla qui.",
    decision_restored: "Il Suo ricorso {reference} è stato accolto: il Suo account è stato \
        ripristinato. Ci scusiamo per il disagio.",
    reopened: "Il Suo ricorso {reference} è stato riaperto e sarà esaminato di nuovo.",
    closed_no_response: "Il Suo ricorso {reference} è stato chiuso perché non abbiamo ricevuto \
        risposta. Può inviarci un nuovo messaggio in qualsiasi momento per presentare un nuovo \
        ricorso.",
    about_your_appeal: "Riguardo al Suo ricorso {reference}: {reason}",
    account_restored: "Il Suo account è stato ripristinato. Un provvedimento che lo \
        riguardava si è rivelato errato ed è stato annullato. Ci scusiamo per il disagio.",
    throttled: "Diversi Suoi ricorsi sono stati ritenuti manifestamente infondati, perciò per \
        un certo periodo non accettiamo nuovi ricorsi dal Suo account.",
    refused_until: "Diversi Suoi ricorsi sono stati ritenuti manifestamente infondati. Non accetteremo nuovi ricorsi dal Suo account fino al {date}. Continuiamo a leggere i messaggi sui ricorsi già aperti.",
    concerns: " Riguarda la nostra decisione del {date} ({restriction}) in base alla regola \
        «{policy}». Rilevamento automatizzato: {detection}; decisione automatizzata: \
        {decision}.",
    expect_decision: " Può attendersi una decisione entro il {date}.",
    reasons: " Motivazione: {reasons}",
    redress: " Se non è d'accordo, può ancora rivolgersi a un organismo certificato di \
        risoluzione extragiudiziale delle controversie{bodies} o a un tribunale.",
    status_link: "\n\nIl Suo ricorso, la sua cronologia e un modulo per aggiungere \
        informazioni: {link}",
    ask_for_email: "Per collegare questa conversazione al Suo account (ricorso {reference}), \
        risponda con l'indirizzo e-mail del Suo account. Invieremo un link di conferma a quel \
        indirizzo.",
    confirmation_sent: "Grazie. Se l'indirizzo appartiene a un account, gli abbiamo inviato un \
        link; lo apra per collegare questa conversazione al ricorso {reference}.",
    identity_linked: "Il Suo account è ora collegato al ricorso {reference}. Le risponderemo \
        qui.",
};

pub(crate) const PT: DmTexts = DmTexts {
    acknowledgement: "Recebemos o seu recurso. A referência é {reference}. Uma pessoa irá \
        analisá-lo e responderemos aqui. Pode acrescentar tudo o que queira que saibamos \
        respondendo a esta mensagem.",
    information_request: "Sobre o seu recurso {reference}: quem o analisa precisa de mais \
        informações. Responda a esta mensagem; o seu recurso aguarda a sua resposta.",
    decision_upheld: "O seu recurso {reference} foi analisado e a decisão mantém-se. A \
        exposição de motivos explica a regra e os factos em que se baseia; pode pedi-la aqui.",
    decision_restored: "O seu recurso {reference} foi aceite: a sua conta foi restabelecida. \
        Lamentamos o incómodo.",
    reopened: "O seu recurso {reference} foi reaberto e será analisado novamente.",
    closed_no_response: "O seu recurso {reference} foi encerrado porque não obtivemos \
        resposta. Pode enviar-nos uma nova mensagem a qualquer momento para recorrer de novo.",
    about_your_appeal: "Sobre o seu recurso {reference}: {reason}",
    account_restored: "A sua conta foi restabelecida. Uma medida que a afetava revelou-se \
        errada e foi anulada. Lamentamos o incómodo.",
    throttled: "Vários dos seus recursos foram considerados manifestamente infundados, pelo \
        que durante algum tempo não são aceites novos recursos da sua conta.",
    refused_until: "Vários dos seus recursos foram considerados manifestamente infundados. Novos recursos da sua conta não serão aceites até {date}. Continuamos a ler as mensagens sobre recursos já abertos.",
    concerns: " Diz respeito à nossa decisão de {date} ({restriction}) ao abrigo da regra \
        «{policy}». Deteção automatizada: {detection}; decisão automatizada: {decision}.",
    expect_decision: " Pode contar com uma decisão até {date}.",
    reasons: " Fundamentos: {reasons}",
    redress: " Se não concordar, pode ainda dirigir-se a um organismo certificado de \
        resolução extrajudicial de litígios{bodies} ou a um tribunal.",
    status_link: "\n\nO seu recurso, o seu histórico e um formulário para acrescentar \
        informações: {link}",
    ask_for_email: "Para associar esta conversa à sua conta (recurso {reference}), responda \
        com o endereço de e-mail da sua conta. Enviaremos uma ligação de confirmação para \
        esse endereço.",
    confirmation_sent: "Obrigado. Se esse endereço pertencer a uma conta, enviámos-lhe uma \
        ligação; abra-a para associar esta conversa ao recurso {reference}.",
    identity_linked: "A sua conta está agora associada ao recurso {reference}. Responderemos \
        aqui.",
};

pub(crate) const NL: DmTexts = DmTexts {
    acknowledgement: "Wij hebben uw bezwaar ontvangen. Het kenmerk is {reference}. Een mens \
        beoordeelt het en wij antwoorden u hier. U kunt alles wat wij moeten weten toevoegen \
        door op dit bericht te antwoorden.",
    information_request: "Over uw bezwaar {reference}: de beoordelaar heeft meer informatie \
        nodig. Beantwoord dit bericht; uw bezwaar wacht op uw antwoord.",
    decision_upheld: "Uw bezwaar {reference} is beoordeeld en het besluit blijft staan. De \
        motivering noemt de regel en de feiten waarop het besluit berust; u kunt haar hier \
        opvragen.",
    decision_restored: "Uw bezwaar {reference} is gegrond: uw account is hersteld. Onze \
        excuses voor het ongemak.",
    reopened: "Uw bezwaar {reference} is heropend en wordt opnieuw beoordeeld.",
    closed_no_response: "Uw bezwaar {reference} is afgesloten omdat wij geen antwoord hebben \
        ontvangen. U kunt ons op elk moment een nieuw bericht sturen om opnieuw bezwaar te \
        maken.",
    about_your_appeal: "Over uw bezwaar {reference}: {reason}",
    account_restored: "Uw account is hersteld. Een maatregel die het trof, bleek onjuist en is \
        teruggedraaid. Onze excuses voor het ongemak.",
    throttled: "Meerdere van uw bezwaren waren kennelijk ongegrond; daarom aanvaarden wij een \
        tijd geen nieuwe bezwaren van uw account.",
    refused_until: "Verscheidene van uw bezwaren bleken kennelijk ongegrond. Nieuwe bezwaren van uw account nemen we tot {date} niet aan. Berichten over bezwaren die al openstaan, lezen we nog steeds.",
    concerns: " Het betreft ons besluit van {date} ({restriction}) op grond van de regel \
        ‘{policy}’. Automatisch ontdekt: {detection}; automatisch besloten: {decision}.",
    expect_decision: " U kunt uiterlijk {date} een besluit verwachten.",
    reasons: " Redenen: {reasons}",
    redress: " Bent u het er niet mee eens, dan kunt u zich nog wenden tot een gecertificeerde \
        instantie voor buitengerechtelijke geschillenbeslechting{bodies} of tot de rechter.",
    status_link: "\n\nUw bezwaar, de geschiedenis ervan en een formulier om informatie toe te \
        voegen: {link}",
    ask_for_email: "Om dit gesprek aan uw account te koppelen (bezwaar {reference}), antwoordt \
        u met het e-mailadres van uw account. Wij sturen een bevestigingslink naar dat adres.",
    confirmation_sent: "Dank u. Als dat adres bij een account hoort, hebben wij er een link \
        naartoe gestuurd; open die om dit gesprek aan bezwaar {reference} te koppelen.",
    identity_linked: "Uw account is nu gekoppeld aan bezwaar {reference}. Wij antwoorden u \
        hier.",
};

pub(crate) const PL: DmTexts = DmTexts {
    acknowledgement: "Otrzymaliśmy Państwa odwołanie. Jego numer referencyjny to {reference}. \
        Rozpatrzy je człowiek, a odpowiedź prześlemy tutaj. Wszystko, o czym chcieliby nas \
        Państwo poinformować, można dodać, odpowiadając na tę wiadomość.",
    information_request: "W sprawie odwołania {reference}: osoba rozpatrująca potrzebuje \
        dodatkowych informacji. Prosimy odpowiedzieć na tę wiadomość; odwołanie czeka na \
        Państwa odpowiedź.",
    decision_upheld: "Odwołanie {reference} zostało rozpatrzone, a decyzja zostaje utrzymana. \
        Uzasadnienie wskazuje zasadę i fakty, na których się opiera; mogą Państwo poprosić o \
        nie tutaj.",
    decision_restored: "Odwołanie {reference} zostało uwzględnione: Państwa konto zostało \
        przywrócone. Przepraszamy za kłopot.",
    reopened: "Odwołanie {reference} zostało wznowione i zostanie ponownie rozpatrzone.",
    closed_no_response: "Odwołanie {reference} zostało zamknięte, ponieważ nie otrzymaliśmy \
        odpowiedzi. W każdej chwili mogą Państwo wysłać nową wiadomość, aby ponownie się \
        odwołać.",
    about_your_appeal: "W sprawie odwołania {reference}: {reason}",
    account_restored: "Państwa konto zostało przywrócone. Środek, który go dotyczył, okazał \
        się błędny i został cofnięty. Przepraszamy za kłopot.",
    throttled: "Kilka Państwa odwołań uznano za oczywiście bezzasadne, dlatego przez pewien \
        czas nie przyjmujemy nowych odwołań z Państwa konta.",
    refused_until: "Kilka Państwa odwołań uznano za oczywiście bezzasadne. Nowych odwołań z Państwa konta nie przyjmiemy do {date}. Wiadomości dotyczące już otwartych odwołań nadal czytamy.",
    concerns: " Dotyczy ono naszej decyzji z dnia {date} ({restriction}) na podstawie zasady \
        „{policy}”. Wykryto automatycznie: {detection}; zdecydowano automatycznie: \
        {decision}.",
    expect_decision: " Decyzji mogą się Państwo spodziewać do {date}.",
    reasons: " Uzasadnienie: {reasons}",
    redress: " Jeśli nie zgadzają się Państwo z decyzją, nadal mogą Państwo zwrócić się do \
        certyfikowanego organu pozasądowego rozstrzygania sporów{bodies} lub do sądu.",
    status_link: "\n\nPaństwa odwołanie, jego historia i formularz do przekazania informacji: \
        {link}",
    ask_for_email: "Aby powiązać tę rozmowę z Państwa kontem (odwołanie {reference}), prosimy \
        odpowiedzieć, podając adres e-mail konta. Wyślemy na ten adres link potwierdzający.",
    confirmation_sent: "Dziękujemy. Jeśli ten adres należy do konta, wysłaliśmy na niego link; \
        prosimy go otworzyć, aby powiązać tę rozmowę z odwołaniem {reference}.",
    identity_linked: "Państwa konto jest teraz powiązane z odwołaniem {reference}. Odpowiemy \
        tutaj.",
};

pub(crate) const JA: DmTexts = DmTexts {
    acknowledgement: "異議申し立てを受け付けました。受付番号は {reference} です。担当者が審査し、\
        こちらでご回答します。お伝えになりたいことがあれば、このメッセージにご返信ください。",
    information_request: "異議申し立て {reference} について：審査担当者が追加の情報を必要としています。\
        このメッセージにご返信ください。異議申し立てはお客様のご回答をお待ちしています。",
    decision_upheld: "異議申し立て {reference} を審査した結果、当初の措置を維持することになりました。\
        理由の説明には、適用された規定とその根拠となる事実が記載されています。こちらでご請求いただけます。",
    decision_restored: "異議申し立て {reference} が認められ、アカウントを復元しました。\
        ご不便をおかけしましたことをお詫び申し上げます。",
    reopened: "異議申し立て {reference} の審査を再開しました。改めて審査いたします。",
    closed_no_response: "ご回答がなかったため、異議申し立て {reference} を終了しました。\
        改めて異議を申し立てる場合は、いつでも新しいメッセージをお送りください。",
    about_your_appeal: "異議申し立て {reference} について：{reason}",
    account_restored: "お客様のアカウントを復元しました。アカウントに対する措置が誤りであったことが判明し、\
        取り消されました。ご不便をおかけしましたことをお詫び申し上げます。",
    throttled: "お客様の異議申し立てのうち複数が明らかに根拠がないと判断されたため、\
        一定期間、お客様のアカウントからの新たな異議申し立ては受け付けておりません。",
    refused_until: "お客様の異議申し立てのうち複数が明らかに根拠がないと判断されました。{date} まで、お客様のアカウントからの新しい異議申し立ては受け付けません。すでに受け付け済みの異議申し立てに関するメッセージは引き続き確認します。",
    concerns: " 対象は、{date} に規定「{policy}」に基づいて行った当社の措置（{restriction}）です。\
        自動検出：{detection}、自動判断：{decision}。",
    expect_decision: " {date} までに判断をお知らせする予定です。",
    reasons: " 理由：{reasons}",
    redress: " ご納得いただけない場合は、引き続き認定を受けた裁判外紛争解決機関{bodies}\
        または裁判所に申し立てることができます。",
    status_link: "\n\n異議申し立ての状況、経過、情報追加用のフォーム：{link}",
    ask_for_email: "この会話をお客様のアカウントに関連付けるため（異議申し立て {reference}）、\
        アカウントのメールアドレスをご返信ください。そのアドレスに確認用のリンクをお送りします。",
    confirmation_sent: "ありがとうございます。そのアドレスがアカウントのものであれば、リンクをお送りしました。\
        リンクを開くと、この会話が異議申し立て {reference} に関連付けられます。",
    identity_linked: "お客様のアカウントが異議申し立て {reference} に関連付けられました。\
        こちらでご回答します。",
};
