/*
 * A whole device-flow login as the user experiences it: start the device
 * authorization, show ONE prompt with host, service, URL, code and QR code,
 * and after the user presses Enter poll for the tokens.
 */
#ifndef PAMORY_LOGIN_H
#define PAMORY_LOGIN_H

#include "context.h"
#include "discovery.h"
#include "flow/device.h"
#include "http.h"

/*
 * Returns PAM_SUCCESS with tokens filled in, or the PAM error of the step
 * that failed (PAM_CONV_ERR when the user's side of the conversation is gone).
 */
int pamory_device_login(struct pamory_ctx *ctx, const struct pamory_http *http,
                        const struct pamory_discovery *disc, const struct pamory_client *client,
                        struct pamory_tokens *tokens);

#endif
