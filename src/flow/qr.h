/*
 * QR codes as text, made with libqrencode, for the device-flow prompt.
 *
 *  - ASCII: each module is two characters wide, "##" for dark and "  " for
 *    light, one text line per module row.  Pure ASCII, because OpenSSH
 *    clients escape non-ASCII bytes in keyboard-interactive prompts.
 *  - UTF-8: upper/lower half blocks pack two module rows into one text line,
 *    so the code is half as tall.  Like qrencode -t UTF8 it paints the LIGHT
 *    modules, which is what reads correctly on a dark-background terminal.
 *
 * Both draw a quiet zone of PAMORY_QR_MARGIN modules; ASCII narrows it to
 * one module when that is what keeps the code within 80 columns (long Ory
 * Network URLs).  Lines end in "\n".
 */
#ifndef PAMORY_QR_H
#define PAMORY_QR_H

#define PAMORY_QR_MARGIN 2

enum pamory_qr_style { PAMORY_QR_STYLE_ASCII, PAMORY_QR_STYLE_UTF8 };

/* Render text as a QR code (ECC level L, byte mode).  Heap string or NULL. */
char *pamory_qr_render(const char *text, enum pamory_qr_style style);

#endif
