// "Verifica in due passaggi": enrolment, recovery codes, switching it off. Italian first, English beside it; placeholders are {name}.
export const it = {
  twoStepScan: 'Inquadra il codice QR con l\'app di autenticazione, oppure inserisci a mano la chiave qui sotto.',
  twoStepQrAlt: 'Codice QR da inquadrare con l\'app di autenticazione',
  twoStepSecret: 'Chiave da inserire a mano',
  twoStepConfirmIntro: 'Poi scrivi il codice di 6 cifre che l\'app mostra.',
  twoStepConfirm: 'Conferma e attiva',
  twoStepCancel: 'Annulla',
  twoStepCodesTitle: 'Codici di recupero',
  twoStepCodesIntro: 'La verifica in due passaggi è attiva. Conserva questi dieci codici in un posto sicuro: ognuno vale per un accesso senza il telefono, una volta sola. Non verranno più mostrati.',
  twoStepDisableIntro: 'Per disattivarla inserisci un codice dell\'app o un codice di recupero.',
  twoStepDisable: 'Disattiva la verifica in due passaggi',
  backToProfile: 'Torna al profilo',
};

export const en: typeof it = {
  twoStepScan: 'Scan the QR code with the authenticator app, or type the key below into it.',
  twoStepQrAlt: 'QR code to scan with the authenticator app',
  twoStepSecret: 'Key to type in',
  twoStepConfirmIntro: 'Then enter the 6-digit code the app shows.',
  twoStepConfirm: 'Confirm and turn on',
  twoStepCancel: 'Cancel',
  twoStepCodesTitle: 'Recovery codes',
  twoStepCodesIntro: 'Two-step verification is on. Keep these ten codes somewhere safe: each lets you log in once without your phone. They will not be shown again.',
  twoStepDisableIntro: 'To turn it off, enter a code from the app or a recovery code.',
  twoStepDisable: 'Turn off two-step verification',
  backToProfile: 'Back to the profile',
};
