#include "infer/engine.hpp"
#include "infer/passes/passes.hpp"

namespace tickrt::infer {

Status optimize_graph(Graph& g, const BuildOptions& opt, std::vector<PassReport>* report) {
  auto run = [&](const char* name, Result<int> r) -> Status {
    if (!r) return r.status().with_context(name);
    if (report) report->push_back({name, *r});
    return g.validate().with_context(name);
  };
  TICKRT_RETURN_IF_ERROR(run("dead-node elimination", passes::eliminate_dead_nodes(g)));
  TICKRT_RETURN_IF_ERROR(run("constant folding", passes::fold_constants(g, opt.isa)));
  TICKRT_RETURN_IF_ERROR(run("simplify", passes::simplify(g)));
  TICKRT_RETURN_IF_ERROR(run("conv+batchnorm folding", passes::fuse_conv_bn_act(g, opt.isa)));
  TICKRT_RETURN_IF_ERROR(run("channels-last convolutions", passes::convert_conv_nhwc(g, opt.isa)));
  TICKRT_RETURN_IF_ERROR(run("convolution chains", passes::fuse_conv_nhwc_chains(g)));
  TICKRT_RETURN_IF_ERROR(run("lstm fusion", passes::fuse_lstm(g, opt.isa)));
  TICKRT_RETURN_IF_ERROR(run("simplify", passes::simplify(g)));
  TICKRT_RETURN_IF_ERROR(run("lstm relayout", passes::relayout_fused_lstm(g)));
  TICKRT_RETURN_IF_ERROR(run("simplify", passes::simplify(g)));
  TICKRT_RETURN_IF_ERROR(run("additive attention fusion", passes::fuse_additive_attention(g, opt.isa)));
  TICKRT_RETURN_IF_ERROR(run("sdpa fusion", passes::fuse_sdpa(g, opt.isa)));
  TICKRT_RETURN_IF_ERROR(run("simplify", passes::simplify(g)));
  TICKRT_RETURN_IF_ERROR(run("multi-head attention fusion", passes::fuse_mha(g)));
  TICKRT_RETURN_IF_ERROR(run("streaming ring/context fusion", passes::fuse_stream_ops(g)));
  TICKRT_RETURN_IF_ERROR(run("streaming circular rings", passes::circular_stream_rings(g)));
  TICKRT_RETURN_IF_ERROR(run("streaming row layers", passes::stream_row_linear(g)));
  TICKRT_RETURN_IF_ERROR(run("gemm+bias+activation fusion", passes::fuse_gemm_bias_act(g, opt.isa)));
  TICKRT_RETURN_IF_ERROR(run("elementwise chains", passes::fuse_elementwise_chains(g, opt.isa)));
  TICKRT_RETURN_IF_ERROR(run("dead-node elimination", passes::eliminate_dead_nodes(g)));
  return Status::Ok();
}

}  // namespace tickrt::infer
