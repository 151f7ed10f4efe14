/*
 * Port latencies, read outside the realtime thread: JACK-Client has no
 * binding for jack_port_get_latency_range() or
 * jack_recompute_total_latencies().
 */
#include "jackrec_core.h"

#include <jack/jack.h>

void jr_port_capture_latency(void *port, uint32_t range[2])
{
    jack_latency_range_t latency = {0, 0};
    jack_port_get_latency_range(port, JackCaptureLatency, &latency);
    range[0] = latency.min;
    range[1] = latency.max;
}

int jr_recompute_latencies(void *client)
{
    return jack_recompute_total_latencies(client);
}
