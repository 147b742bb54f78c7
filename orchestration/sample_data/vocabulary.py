"""The words of the synthetic case extracts: event types, programmes, citizenships, asylum
centres, names, Welcome House's volunteer organisations, Danish modules and exams, and the
files' headers (docs/data.md §5). Part of the definition of the output: the generator draws
their codes by position, so any change here changes the committed sample."""

EVENT_TYPES = [
    "asylcenter_samtale", "visitation", "kompetenceafklaring", "virksomhedspraktik",
    "loentilskud", "igu", "ordinaert_job", "uddannelse", "danskuddannelse_start",
    "danskproeve_bestaaet", "welcome_house", "selvforsoergende", "fraflytning",
]  # fmt: skip
PROGRAMMES = ["integrationsprogram", "selvforsoergelses_og_hjemrejseprogram", "saerlov_ukraine"]
CITIZENSHIPS = [
    "Syrien",
    "Eritrea",
    "Afghanistan",
    "Irak",
    "Iran",
    "Somalia",
    "Statsløs",
    "Ukraine",
]
CITIZENSHIP_WEIGHTS = [0.40, 0.25, 0.12, 0.06, 0.05, 0.04, 0.08]
ASYLUM_CENTRES = [
    "Center Sandholm", "Center Kongelunden", "Center Sjælsmark", "Center Avnstrup",
    "Center Auderød", "Center Vipperød", "Center Thisted", "Center Holmegaard",
]  # fmt: skip
FIRST_NAMES = {
    "M": ["Ahmad", "Mohammad", "Yonas", "Omar", "Ali", "Hassan", "Dawit", "Mustafa", "Samir",
          "Abdullah", "Oleksandr", "Dmytro", "Andrii", "Serhii", "Khalid", "Tesfaye"],
    "K": ["Fatima", "Aisha", "Mariam", "Senait", "Rahel", "Noor", "Layla", "Zainab", "Hanan",
          "Olena", "Iryna", "Natalia", "Oksana", "Tetiana", "Helen", "Amal"],
}  # fmt: skip
LAST_NAMES = [
    "Al-Hassan", "Haile", "Tesfamariam", "Rahimi", "Ahmadi", "Hussein", "Mohamed", "Abdi",
    "Kovalenko", "Shevchenko", "Bondarenko", "Melnyk", "Khalil", "Ibrahim", "Yusuf", "Gebre",
]  # fmt: skip
# Welcome House: about 85 active volunteer organisations (docs/data.md §5).
VOLUNTEER_ORGANISATIONS = [
    "Røde Kors København", "Dansk Flygtningehjælp Frivillignetværk", "Venligboerne København",
    "Trampoline House", "Bydelsmødrene", "Mino Danmark", "Ventilen", "Kvindernes Bygning",
    "Foreningen Nydansker", "Nørrebro Lektiecafé", "DGI Storkøbenhavn", "Boldklubben Heimdal",
    "KFUM Sport", "Mødrehjælpen", "Frelsens Hær", "Kirkens Korshær", "Café Exodus",
    "Refugees Welcome", "Bibliotekernes Sprogcafé", "Dansk Folkeoplysnings Samråd",
] + [f"Frivilligforening {area} {n}" for area in (
    "Nørrebro", "Amager", "Vesterbro", "Bispebjerg", "Valby", "Brønshøj", "Østerbro",
    "Tingbjerg", "Sydhavn", "Indre By", "Husum", "Vanløse", "Ørestad",
) for n in (1, 2, 3, 4, 5)]  # fmt: skip
DANISH_MODULES = ["DU1", "DU2", "DU3"]
EXAMS = ["PD1", "PD2", "PD3", "Studieprøven"]
DETAILS = DANISH_MODULES + EXAMS + VOLUNTEER_ORGANISATIONS
CITIZEN_HEADER = (
    "cpr;fornavn;efternavn;foedselsdato;koen;statsborgerskab;ankomstdato;program;asylcenter"
)
EVENT_HEADER = "event_id;cpr;haendelse;dato;slutdato;detalje;erstatter_event_id;annulleret"
