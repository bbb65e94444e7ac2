//! What the acknowledgement says when the case is one of a wave of faulty enforcements
//! (`redress_engine::transparency::Wave`), in each shipped language. Mail and DM say the
//! same words, so a person who reads both never reads two stories.

use redress_engine::transparency::Wave;

struct WaveTexts {
    incident_open: &'static str,
    restore_running: &'static str,
}

const EN: WaveTexts = WaveTexts {
    incident_open: "We found an error affecting accounts like yours and are putting right \
        every account it affected, yours included. You will hear from us once it is done.",
    restore_running: "We found an error affecting accounts like yours; your account is being \
        restored. You will hear from us once it is done, and you need not do anything more.",
};

const DE: WaveTexts = WaveTexts {
    incident_open: "Wir haben einen Fehler gefunden, der Konten wie Ihres betrifft, und \
        beheben ihn für jedes betroffene Konto, auch für Ihres. Sie hören von uns, sobald das \
        geschehen ist.",
    restore_running: "Wir haben einen Fehler gefunden, der Konten wie Ihres betrifft; Ihr \
        Konto wird gerade wiederhergestellt. Sie hören von uns, sobald das geschehen ist, und \
        müssen nichts weiter tun.",
};

const FR: WaveTexts = WaveTexts {
    incident_open: "Nous avons trouvé une erreur qui touche des comptes comme le vôtre et \
        nous la corrigeons pour chaque compte concerné, y compris le vôtre. Nous vous \
        écrirons dès que ce sera fait.",
    restore_running: "Nous avons trouvé une erreur qui touche des comptes comme le vôtre ; \
        votre compte est en cours de rétablissement. Nous vous écrirons dès que ce sera fait, \
        et vous n'avez rien d'autre à faire.",
};

const ES: WaveTexts = WaveTexts {
    incident_open: "Hemos encontrado un error que afecta a cuentas como la suya y lo estamos \
        corrigiendo en cada cuenta afectada, también en la suya. Le escribiremos en cuanto \
        esté hecho.",
    restore_running: "Hemos encontrado un error que afecta a cuentas como la suya; su cuenta \
        se está restableciendo. Le escribiremos en cuanto esté hecho, y no necesita hacer \
        nada más.",
};

const IT: WaveTexts = WaveTexts {
    incident_open: "Abbiamo trovato un errore che riguarda account come il Suo e lo stiamo \
        correggendo per ogni account coinvolto, compreso il Suo. Le scriveremo non appena \
        sarà fatto.",
    restore_running: "Abbiamo trovato un errore che riguarda account come il Suo; il Suo \
        account è in corso di ripristino. Le scriveremo non appena sarà fatto e non deve fare \
        altro.",
};

const PT: WaveTexts = WaveTexts {
    incident_open: "Encontrámos um erro que afeta contas como a sua e estamos a corrigi-lo em \
        todas as contas afetadas, incluindo a sua. Escreveremos assim que estiver feito.",
    restore_running: "Encontrámos um erro que afeta contas como a sua; a sua conta está a ser \
        reposta. Escreveremos assim que estiver feito, e não precisa de fazer mais nada.",
};

const NL: WaveTexts = WaveTexts {
    incident_open: "We hebben een fout gevonden die accounts zoals het uwe treft, en we \
        herstellen die voor elk getroffen account, ook het uwe. U hoort van ons zodra dat is \
        gebeurd.",
    restore_running: "We hebben een fout gevonden die accounts zoals het uwe treft; uw account \
        wordt hersteld. U hoort van ons zodra dat is gebeurd, en u hoeft verder niets te doen.",
};

const PL: WaveTexts = WaveTexts {
    incident_open: "Znaleźliśmy błąd, który dotyczy kont takich jak Państwa, i naprawiamy go \
        dla każdego dotkniętego konta, także Państwa. Napiszemy, gdy tylko to nastąpi.",
    restore_running: "Znaleźliśmy błąd, który dotyczy kont takich jak Państwa; Państwa konto \
        jest właśnie przywracane. Napiszemy, gdy tylko to nastąpi, i nie muszą Państwo robić \
        nic więcej.",
};

const JA: WaveTexts = WaveTexts {
    incident_open: "お客様のアカウントと同様のアカウントに影響する誤りが見つかりました。\
        影響を受けたすべてのアカウントについて、お客様のアカウントも含めて是正を進めています。\
        完了しましたらお知らせします。",
    restore_running: "お客様のアカウントと同様のアカウントに影響する誤りが見つかりました。\
        お客様のアカウントは現在復元中です。完了しましたらお知らせします。\
        これ以上の手続きは必要ありません。",
};

fn shipped(language: &str) -> Option<&'static WaveTexts> {
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

/// What the acknowledgement says about `wave`, in `language` (English for a language
/// Redress does not ship).
pub fn wave_text(wave: Wave, language: &str) -> &'static str {
    let texts = shipped(language).unwrap_or(&EN);
    match wave {
        Wave::IncidentOpen => texts.incident_open,
        Wave::RestoreRunning => texts.restore_running,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_language_says_both_waves_in_its_own_words() {
        for language in redress_core::language::SHIPPED {
            let Some(texts) = shipped(language) else {
                panic!("no wave texts in {language}");
            };
            for (name, ours, english) in [
                ("incident_open", texts.incident_open, EN.incident_open),
                ("restore_running", texts.restore_running, EN.restore_running),
            ] {
                assert!(!ours.trim().is_empty(), "{language}/{name} is empty");
                if *language != "en" {
                    assert_ne!(ours, english, "{language}/{name} is not translated");
                }
            }
            assert_ne!(texts.incident_open, texts.restore_running, "{language}");
        }
    }
}
